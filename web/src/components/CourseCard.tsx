import { Link } from "react-router";
import type { Schemas } from "../api/client";
import { formatLevel, formatPrice, formatRating, teacherName } from "../format";

export function CourseCard({ course }: { course: Schemas["CourseOut"] }) {
  const teacher = teacherName(course);
  return (
    <article className="card">
      <h2>
        <Link to={`/courses/${course.id}`}>{course.title}</Link>
      </h2>
      <dl className="facts">
        {teacher ? (
          <div>
            <dt>Teacher</dt>
            <dd>{teacher}</dd>
          </div>
        ) : null}
        <div>
          <dt>Level</dt>
          <dd>{formatLevel(course.level)}</dd>
        </div>
        <div>
          <dt>Price</dt>
          <dd>{formatPrice(course)}</dd>
        </div>
        <div>
          <dt>Rating</dt>
          <dd>{formatRating(course)}</dd>
        </div>
      </dl>
    </article>
  );
}
