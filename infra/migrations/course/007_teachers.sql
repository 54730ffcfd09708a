-- The teachers' names, as the course domain learns them from identity's UserRegistered events
-- (course.teacher_consumer): a course answer names its teacher with no call to identity. A
-- course whose teacher's event has not been applied yet answers teacher_name null.
CREATE TABLE teachers (
    id   uuid PRIMARY KEY,
    name text NOT NULL
);

-- Teachers registered before this table existed are not recoverable here (their events were
-- consumed by notification only); the seed fills the table together with the users.
