import type { Schemas } from "./api/client";

export type Level = Schemas["CourseOut"]["level"];

/** The course levels, easiest first. */
export const LEVELS: readonly Level[] = ["beginner", "intermediate", "advanced"];

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

/** The teacher's name (CourseOut.teacher_name; null when the course domain has not learnt it yet). */
export function teacherName(course: Pick<Schemas["CourseOut"], "teacher_name">): string | null {
  return course.teacher_name ? course.teacher_name : null;
}
