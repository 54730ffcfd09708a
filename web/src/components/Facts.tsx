import type { ReactNode } from "react";
import type { Schemas } from "../api/client";
import { formatLevel, formatPrice, formatRating, teacherName } from "../format";

/** One term and its value in a `<dl className="facts">`. */
export function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A course's teacher, level, price and rating; `children` adds further facts after them. */
export function CourseFacts({ course, children }: { course: Schemas["CourseOut"]; children?: ReactNode }) {
  const teacher = teacherName(course);
  return (
    <dl className="facts">
      {teacher ? <Fact term="Teacher">{teacher}</Fact> : null}
      <Fact term="Level">{formatLevel(course.level)}</Fact>
      <Fact term="Price">{formatPrice(course)}</Fact>
      <Fact term="Rating">{formatRating(course)}</Fact>
      {children}
    </dl>
  );
}
