-- GET /payments/me?course_id= lists a student's payments for one course, newest first. This index
-- gives exactly that order (ties by id, as the cursor compares them), so a page is read off it with
-- no sort and without the student's payments for other courses; payments_one_completed_per_course
-- holds only completed payments and no order.
CREATE INDEX payments_student_course_newest_idx ON payments (student_id, course_id, created_at DESC, id DESC);
