-- GET /enrollments/me pages by cursor (docs/api.md, cursors). Its order is now enrolled_at DESC, id DESC:
-- the rows after a cursor's (enrolled_at, id) are one row comparison, which needs both columns in one
-- direction. This index gives exactly that order, so a page is read off it with no sort (the old
-- one had id ascending: an incremental sort of each page's candidates).
DROP INDEX enrollments_student_idx;
CREATE INDEX enrollments_student_newest_idx ON enrollments (student_id, enrolled_at DESC, id DESC);
