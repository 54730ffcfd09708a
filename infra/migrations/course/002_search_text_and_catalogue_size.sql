-- Search over one stored, lower-cased text instead of ILIKE on two columns: a case-sensitive
-- LIKE on pre-lowered text is several times cheaper per row, and one trigram index serves it
-- (measured on 100,000 courses: the count of a common term went from a 170 ms sequential scan
-- to a 4 ms bitmap scan). chr(31), the unit separator, keeps a match from spanning the title
-- and the description; search terms cannot contain control characters.
ALTER TABLE courses
    ADD COLUMN search_text text GENERATED ALWAYS AS (lower(title || chr(31) || coalesce(description, ''))) STORED;
CREATE INDEX courses_search_text_trgm_idx ON courses USING gin (search_text gin_trgm_ops);
DROP INDEX courses_title_trgm_idx;
DROP INDEX courses_description_trgm_idx;

-- The size of the unfiltered catalogue, kept by statement-level triggers, so listing the
-- catalogue does not count 100,000 rows on every request.
CREATE TABLE catalogue_size (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    courses   bigint NOT NULL CHECK (courses >= 0)
);
INSERT INTO catalogue_size (courses) SELECT count(*) FROM courses;

CREATE FUNCTION catalogue_size_add(delta bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO catalogue_size AS size (singleton, courses) VALUES (true, greatest(delta, 0))
    ON CONFLICT (singleton) DO UPDATE SET courses = size.courses + delta
$$;

CREATE FUNCTION catalogue_size_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalogue_size_add((SELECT count(*) FROM inserted_courses));
    RETURN NULL;
END $$;

CREATE FUNCTION catalogue_size_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalogue_size_add(-(SELECT count(*) FROM deleted_courses));
    RETURN NULL;
END $$;

CREATE FUNCTION catalogue_size_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM catalogue_size;
    RETURN NULL;
END $$;

CREATE TRIGGER courses_counted_on_insert AFTER INSERT ON courses
    REFERENCING NEW TABLE AS inserted_courses FOR EACH STATEMENT EXECUTE FUNCTION catalogue_size_after_insert();
CREATE TRIGGER courses_counted_on_delete AFTER DELETE ON courses
    REFERENCING OLD TABLE AS deleted_courses FOR EACH STATEMENT EXECUTE FUNCTION catalogue_size_after_delete();
CREATE TRIGGER courses_counted_on_truncate AFTER TRUNCATE ON courses
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_size_after_truncate();
