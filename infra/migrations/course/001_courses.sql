-- Case-insensitive substring search (ILIKE '%term%') on titles and descriptions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TYPE course_level AS ENUM ('beginner', 'intermediate', 'advanced');

CREATE TABLE courses (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    teacher_id       uuid NOT NULL,  -- a user of the identity domain (no FK across databases)
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description      text,
    is_free          boolean NOT NULL,
    price            numeric(10, 2),
    duration_minutes integer NOT NULL DEFAULT 0 CHECK (duration_minutes >= 0),
    level            course_level NOT NULL DEFAULT 'beginner',
    -- Kept by the review transaction: avg_rating = round(rating_sum / review_count, 2).
    rating_sum       bigint NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    review_count     integer NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    avg_rating       numeric(3, 2) CHECK (avg_rating BETWEEN 1 AND 5),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT courses_price_matches_is_free CHECK (
        (is_free AND price IS NULL) OR (NOT is_free AND price > 0)
    ),
    CONSTRAINT courses_rating_matches_count CHECK ((review_count = 0) = (avg_rating IS NULL))
);

-- The public catalogue, newest first.
CREATE INDEX courses_newest_idx ON courses (created_at DESC, id DESC);
-- A teacher's own courses, newest first.
CREATE INDEX courses_teacher_newest_idx ON courses (teacher_id, created_at DESC, id DESC);
-- Search: `title ILIKE $1 OR description ILIKE $1` becomes a BitmapOr of these two.
CREATE INDEX courses_title_trgm_idx ON courses USING gin (title gin_trgm_ops);
CREATE INDEX courses_description_trgm_idx ON courses USING gin (description gin_trgm_ops);

CREATE TABLE modules (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id  uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    position   integer NOT NULL CHECK (position >= 0),  -- `order` in the API
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A course's modules in curriculum order (also serves the ON DELETE CASCADE lookup).
CREATE INDEX modules_course_position_idx ON modules (course_id, position, created_at, id);

CREATE TABLE lessons (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    module_id        uuid NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    content          text,
    video_url        text,
    duration_minutes integer NOT NULL DEFAULT 0 CHECK (duration_minutes >= 0),
    position         integer NOT NULL CHECK (position >= 0),  -- `order` in the API
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- A module's lessons in order (also serves the ON DELETE CASCADE lookup).
CREATE INDEX lessons_module_position_idx ON lessons (module_id, position, created_at, id);

CREATE TABLE reviews (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id  uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    student_id uuid NOT NULL,  -- a user of the identity domain
    rating     smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_one_per_student UNIQUE (course_id, student_id)
);

-- A course's reviews, newest first.
CREATE INDEX reviews_course_newest_idx ON reviews (course_id, created_at DESC, id DESC);
