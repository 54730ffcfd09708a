-- What a "my learning" page shows of a course (title, level), carried by the course domain's
-- CourseCreated/CourseUpdated facts. Null until a newer event or a rebuild
-- (`make rebuild-read-models`) fills the row; a rebuild fills a null title even at the same version.
ALTER TABLE course_facts
    ADD COLUMN title text,
    ADD COLUMN level text;
