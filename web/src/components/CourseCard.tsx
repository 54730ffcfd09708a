import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { CourseFacts } from "./Facts";

export function CourseCard({ course }: { course: Schemas["CourseOut"] }) {
  return (
    <article className="card">
      <h2>
        <Link to={`/courses/${course.id}`}>{course.title}</Link>
      </h2>
      <CourseFacts course={course} />
    </article>
  );
}
