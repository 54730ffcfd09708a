import type { Schemas } from "./api/client";

export function formatPrice(course: Pick<Schemas["CourseOut"], "is_free" | "price">): string {
  if (course.is_free || course.price === null) return "Free";
  return `$${course.price}`;
}

export function formatRating(course: Pick<Schemas["CourseOut"], "avg_rating" | "review_count">): string {
  if (course.avg_rating === null) return "No ratings yet";
  const reviews = course.review_count === 1 ? "1 review" : `${course.review_count} reviews`;
  return `Rated ${course.avg_rating.toFixed(1)} out of 5 (${reviews})`;
}

export function formatLevel(level: string): string {
  return level.charAt(0).toUpperCase() + level.slice(1);
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** The teacher's name, when the API gives it (CourseOut.teacher_name is being added). */
export function teacherName(course: object): string | null {
  const name = (course as { teacher_name?: unknown }).teacher_name;
  return typeof name === "string" && name ? name : null;
}
