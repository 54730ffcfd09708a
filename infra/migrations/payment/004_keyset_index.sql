-- GET /payments/me pages by cursor (docs/api.md, cursors). Its order is now created_at DESC, id DESC:
-- the rows after a cursor's (created_at, id) are one row comparison, which needs both columns in one
-- direction. This index gives exactly that order, so a page is read off it with no sort (the old
-- one had id ascending: an incremental sort of each page's candidates).
DROP INDEX payments_student_idx;
CREATE INDEX payments_student_newest_idx ON payments (student_id, created_at DESC, id DESC);
