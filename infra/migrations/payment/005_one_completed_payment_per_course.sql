-- A student pays for a course once: a second completed payment of the same student for the same
-- course is refused (POST /payments answers 409 "Already paid for this course").
--
-- Existing duplicates are not removed here (each may be linked to an enrollment, and which one
-- to keep is a decision about money): the migration stops and names how many pairs to resolve.
DO $$
DECLARE
    duplicated bigint;
BEGIN
    SELECT count(*) INTO duplicated FROM (
        SELECT 1 FROM payments WHERE status = 'completed' GROUP BY student_id, course_id HAVING count(*) > 1
    ) AS pairs;
    IF duplicated > 0 THEN
        RAISE EXCEPTION '% (student_id, course_id) pairs have more than one completed payment; resolve them '
            '(refund all but one) before this migration can add payments_one_completed_per_course', duplicated;
    END IF;
END
$$;

CREATE UNIQUE INDEX payments_one_completed_per_course ON payments (student_id, course_id) WHERE status = 'completed';
