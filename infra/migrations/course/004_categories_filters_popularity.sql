-- The catalogue: categories, filters, sorting, cursors (docs/api.md).

-- Categories: reference data the seed loads (no write endpoint); a course may have one.
CREATE TABLE categories (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE courses ADD COLUMN category_id uuid REFERENCES categories (id) ON DELETE SET NULL;

-- Enrollments per course (sort=popular), kept from EnrollmentCreated events: the course domain
-- never asks enrollment. applied_enrollment_events makes applying an event idempotent.
ALTER TABLE courses ADD COLUMN enrollment_count integer NOT NULL DEFAULT 0 CHECK (enrollment_count >= 0);

CREATE TABLE applied_enrollment_events (
    event_id   uuid PRIMARY KEY,
    course_id  uuid NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One index per sort, its order exactly the ORDER BY of course/repository.py SORTS (ties by id),
-- plus the same orders within a category (the catalogue's main filter; also counts a category).
-- Other filters (level, is_free, price range, min_rating) are checked while walking these: each
-- keeps a large share of the catalogue, so a page of 20 is found after a few dozen rows, and a
-- price range or minimum rating is a range scan of the price or rating index under its own sort.
-- newest: courses_newest_idx (created_at DESC, id DESC), migration 001.
CREATE INDEX courses_rating_idx ON courses ((coalesce(avg_rating, 0)) DESC, id DESC);
CREATE INDEX courses_price_idx ON courses ((coalesce(price, 0)), id);  -- price_asc; backwards: price_desc
CREATE INDEX courses_popular_idx ON courses (enrollment_count DESC, id DESC);
CREATE INDEX courses_category_newest_idx ON courses (category_id, created_at DESC, id DESC);
CREATE INDEX courses_category_rating_idx ON courses (category_id, (coalesce(avg_rating, 0)) DESC, id DESC);
CREATE INDEX courses_category_price_idx ON courses (category_id, (coalesce(price, 0)), id);
CREATE INDEX courses_category_popular_idx ON courses (category_id, enrollment_count DESC, id DESC);
