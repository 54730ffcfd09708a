import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import LessonPage from "./LessonPage";
import { fakeApi, json, renderPage, tokens, type Call } from "../test/helpers";

const C = "11111111-1111-1111-1111-111111111111";
const L1 = "22222222-2222-2222-2222-222222222221";
const L2 = "22222222-2222-2222-2222-222222222222";

function lesson(id: string, title: string) {
  return { id, module_id: "m1", title, content: "<p>Read <em>this</em></p>", video_url: null, duration_minutes: 5, order: 0, is_preview: false, created_at: "x" };
}

function routes(done: Set<string>, enrolled: boolean) {
  const course = { id: C, teacher_id: "t", teacher_name: null, title: "Paid course", description: null, is_free: false, price: "10.00", duration_minutes: 0, level: "beginner", avg_rating: null, review_count: 0, created_at: "x", category_id: null };
  return {
    "GET /courses/:id/curriculum": () =>
      json(200, { course, total_lessons: 2, modules: [{ id: "m1", course_id: C, title: "M", order: 0, created_at: "x", lessons: [lesson(L1, "First"), lesson(L2, "Second")] }] }),
    "GET /enrollments/me": (call: Call) =>
      json(200, {
        items: enrolled && call.search.get("course_id") === C
          ? [{ id: "e", student_id: "u1", course_id: C, payment_id: "p", status: done.size === 2 ? "completed" : "in_progress", enrolled_at: "x", course: { id: C, title: "Paid course", level: "beginner", is_free: false }, progress: { completed_lessons: done.size, total_lessons: 2, percentage: done.size * 50 } }]
          : [],
        next_cursor: null,
      }),
    "GET /progress/courses/:id/lessons": () => json(200, { course_id: C, completed_lesson_ids: [...done] }),
    "GET /progress/courses/:id": () =>
      json(200, { course_id: C, completed_lessons: done.size, total_lessons: 2, percentage: done.size * 50 }),
  };
}

describe("Lesson page", () => {
  it("completes the last lesson, updates the progress bar and says the course is completed", async () => {
    const done = new Set([L1]);
    const api = fakeApi({
      ...routes(done, true),
      "GET /lessons/:id": () => json(200, lesson(L2, "Second")),
      "POST /progress/lessons/:id/complete": (call) => {
        done.add(L2);
        return json(201, { id: "x", lesson_id: L2, course_id: (call.body as { course_id: string }).course_id, completed_at: "x" });
      },
    });
    renderPage(<LessonPage />, { path: "/courses/:courseId/lessons/:lessonId", route: `/courses/${C}/lessons/${L2}`, fetch: api.fetch, signedIn: tokens("u1", "student", "rt") });

    expect(await screen.findByRole("heading", { level: 1, name: "Second" })).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Previous lesson" })).toHaveAttribute("href", `/courses/${C}/lessons/${L1}`);
    expect(screen.queryByRole("link", { name: "Next lesson" })).not.toBeInTheDocument();
    expect(await screen.findByLabelText("Course progress")).toHaveAttribute("value", "50");

    await userEvent.click(screen.getByRole("button", { name: "Complete lesson" }));
    expect(await screen.findByText("Lesson completed")).toBeInTheDocument();
    expect(await screen.findByText(/Course completed/)).toBeInTheDocument();
    expect(screen.getByLabelText("Course progress")).toHaveAttribute("value", "100");
    const post = api.calls.find((c) => c.method === "POST");
    expect(post).toMatchObject({ path: `/progress/lessons/${L2}/complete`, body: { course_id: C } });
  });

  it("shows the API's 403 to a student who is not enrolled, with the way to enroll", async () => {
    const api = fakeApi({
      ...routes(new Set(), false),
      "GET /lessons/:id": () => json(403, { detail: "Enroll in this course to open its lessons" }),
    });
    renderPage(<LessonPage />, { path: "/courses/:courseId/lessons/:lessonId", route: `/courses/${C}/lessons/${L1}`, fetch: api.fetch, signedIn: tokens("u1", "student", "rt") });
    expect(await screen.findByRole("alert")).toHaveTextContent("Enroll in this course to open its lessons");
    expect(screen.getByRole("link", { name: "Enroll on the course page" })).toHaveAttribute("href", `/courses/${C}`);
    expect(screen.queryByRole("button", { name: "Complete lesson" })).not.toBeInTheDocument();
  });

  it("offers anonymous visitors a way to log in on a 401", async () => {
    const api = fakeApi({ ...routes(new Set(), false), "GET /lessons/:id": () => json(401, { detail: "Not authenticated" }) });
    renderPage(<LessonPage />, { path: "/courses/:courseId/lessons/:lessonId", route: `/courses/${C}/lessons/${L1}`, fetch: api.fetch });
    expect(await screen.findByRole("alert")).toHaveTextContent("Not authenticated");
    expect(screen.getByRole("link", { name: "Log in to open this lesson" })).toHaveAttribute(
      "href",
      `/login?next=${encodeURIComponent(`/courses/${C}/lessons/${L1}`)}`,
    );
  });
});
