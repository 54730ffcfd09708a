import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import CoursePage from "./CoursePage";
import { fakeApi, json, renderPage, tokens, type Call } from "../test/helpers";

const COURSE_ID = "11111111-1111-1111-1111-111111111111";
const LESSON_ID = "22222222-2222-2222-2222-222222222222";

function courseOut(extra: Record<string, unknown> = {}) {
  return {
    id: COURSE_ID,
    teacher_id: "t1",
    title: "Rust for beginners",
    description: '<p>Learn <strong>Rust</strong>.</p><img src="x" onerror="alert(1)"><script>alert(2)</script>',
    is_free: false,
    price: "19.99",
    duration_minutes: 90,
    level: "beginner",
    avg_rating: null,
    review_count: 0,
    created_at: "2026-01-01T00:00:00+00:00",
    category_id: null,
    ...extra,
  };
}

function paymentOut(id: string, status: string) {
  return { id, student_id: "u1", course_id: COURSE_ID, amount: "19.99", status, created_at: "x" };
}

/**
 * Opens the course page against a fake API: the course, its curriculum, count, reviews and the
 * caller's enrollment (none until POST /enrollments succeeds, unless `enrolled`), signed in as
 * student u1 unless `signedIn` is false. `routes` adds or replaces handlers.
 */
function openCoursePage({
  course = courseOut(),
  enrolled = false,
  signedIn = true,
  routes = {},
}: { course?: ReturnType<typeof courseOut>; enrolled?: boolean; signedIn?: boolean; routes?: Record<string, (call: Call) => Response> } = {}) {
  let isEnrolled = enrolled;
  const api = fakeApi({
    "GET /courses/:id": () => json(200, course),
    "GET /courses/:id/curriculum": () =>
      json(200, {
        course,
        total_lessons: 1,
        modules: [
          {
            id: "m1",
            course_id: COURSE_ID,
            title: "Basics",
            order: 0,
            created_at: "x",
            lessons: [
              { id: LESSON_ID, module_id: "m1", title: "Hello", content: null, video_url: null, duration_minutes: 5, order: 0, is_preview: false, created_at: "x" },
            ],
          },
        ],
      }),
    "GET /enrollments/course/:id/count": () => json(200, { course_id: COURSE_ID, count: 7 }),
    "GET /enrollments/me": (call: Call) =>
      json(200, {
        items: isEnrolled && call.search.get("course_id") === COURSE_ID
          ? [{ id: "e1", student_id: "u1", course_id: COURSE_ID, payment_id: "p1", status: "in_progress", enrolled_at: "x", course: { id: COURSE_ID, title: course.title, level: "beginner", is_free: false }, progress: { completed_lessons: 1, total_lessons: 1, percentage: 100 } }]
          : [],
        next_cursor: null,
      }),
    "GET /progress/courses/:id/lessons": () => json(200, { course_id: COURSE_ID, completed_lesson_ids: [LESSON_ID] }),
    "GET /reviews/course/:id": () => json(200, { items: [], next_cursor: null }),
    "POST /enrollments": (call: Call) => {
      isEnrolled = true;
      const { payment_id } = call.body as { payment_id?: string };
      return json(201, { id: "e1", student_id: "u1", course_id: COURSE_ID, payment_id: payment_id ?? null, status: "enrolled", enrolled_at: "x" });
    },
    ...routes,
  });
  const { container } = renderPage(<CoursePage />, {
    path: "/courses/:courseId",
    route: `/courses/${COURSE_ID}`,
    fetch: api.fetch,
    signedIn: signedIn ? tokens("u1", "student", "rt-1") : undefined,
  });
  return { api, container };
}

describe("Course page", () => {
  it("shows the course with sanitised description, count and curriculum", async () => {
    const { container } = openCoursePage({ signedIn: false });
    expect(await screen.findByRole("heading", { level: 1, name: "Rust for beginners" })).toBeInTheDocument();
    expect(await screen.findByText("7 enrolled")).toBeInTheDocument();
    expect(await screen.findByRole("link", { name: "Hello" })).toBeInTheDocument();
    const about = await screen.findByText("Rust");
    expect(about.tagName).toBe("STRONG");
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("[onerror]")).toBeNull();
    // anonymous visitors see the button too (it leads to log in)
    expect(screen.getByRole("button", { name: /Pay and enroll/ })).toBeInTheDocument();
  });

  it("pays and enrolls in one click, reusing the Idempotency-Key when the attempt is retried", async () => {
    let paymentsTried = 0;
    const { api } = openCoursePage({
      routes: {
        "POST /payments": () => {
          paymentsTried += 1;
          if (paymentsTried === 1) return json(503, { detail: "The idempotency store is unavailable; retry later" });
          return json(201, paymentOut("p1", "completed"));
        },
      },
    });

    await userEvent.click(await screen.findByRole("button", { name: /Pay and enroll/ }));
    expect(await screen.findByText(/The idempotency store is unavailable; retry later/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: /Pay and enroll/ }));
    expect(await screen.findByText(/You are enrolled/)).toBeInTheDocument();

    const payments = api.calls.filter((c) => c.method === "POST" && c.path === "/payments");
    expect(payments).toHaveLength(2);
    const keys = payments.map((c) => c.headers.get("Idempotency-Key"));
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    expect(payments[0]!.body).toEqual({ course_id: COURSE_ID, amount: "19.99" });
    const enrollment = api.calls.find((c) => c.method === "POST" && c.path === "/enrollments");
    expect(enrollment!.body).toEqual({ course_id: COURSE_ID, payment_id: "p1" });
  });

  it("after 'Already paid' enrolls with the completed payment that one GET /payments/me?course_id= finds", async () => {
    const { api } = openCoursePage({
      routes: {
        "POST /payments": () => json(409, { detail: "Already paid for this course" }),
        "GET /payments/me": (call) =>
          json(200, {
            items: call.search.get("course_id") === COURSE_ID ? [paymentOut("p-failed", "failed"), paymentOut("p-paid", "completed")] : [],
            next_cursor: call.search.get("course_id") === COURSE_ID ? null : "more",
          }),
      },
    });

    await userEvent.click(await screen.findByRole("button", { name: /Pay and enroll/ }));
    expect(await screen.findByText(/You are enrolled/)).toBeInTheDocument();
    const lookups = api.calls.filter((c) => c.method === "GET" && c.path === "/payments/me");
    expect(lookups).toHaveLength(1);
    expect(Object.fromEntries(lookups[0]!.search)).toEqual({ course_id: COURSE_ID, limit: "100" });
    const enrollment = api.calls.find((c) => c.method === "POST" && c.path === "/enrollments");
    expect(enrollment!.body).toEqual({ course_id: COURSE_ID, payment_id: "p-paid" });
  });

  it("shows 'Already paid' when the caller has no completed payment for the course", async () => {
    const { api } = openCoursePage({
      routes: {
        "POST /payments": () => json(409, { detail: "Already paid for this course" }),
        "GET /payments/me": () => json(200, { items: [], next_cursor: null }),
      },
    });

    await userEvent.click(await screen.findByRole("button", { name: /Pay and enroll/ }));
    expect(await screen.findByText(/Already paid for this course/)).toBeInTheDocument();
    expect(api.calls.filter((c) => c.method === "GET" && c.path === "/payments/me")).toHaveLength(1);
    expect(api.calls.some((c) => c.method === "POST" && c.path === "/enrollments")).toBe(false);
  });

  it("enrolls in a free course and treats 'already enrolled' on a retry as done", async () => {
    const { api } = openCoursePage({
      course: courseOut({ is_free: true, price: null }),
      routes: { "POST /enrollments": () => json(409, { detail: "Already enrolled in this course" }) },
    });
    await userEvent.click(await screen.findByRole("button", { name: "Enroll" }));
    expect(await screen.findByText(/You are enrolled/)).toBeInTheDocument();
    expect(api.calls.some((c) => c.path === "/payments")).toBe(false);
  });

  it("ticks done lessons and offers the review form to an enrolled student", async () => {
    openCoursePage({
      enrolled: true,
      routes: {
        "POST /reviews": () => json(422, { detail: [{ loc: ["body", "comment"], msg: "Markup is not allowed in plain text", type: "value_error" }] }),
      },
    });
    const lesson = await screen.findByRole("link", { name: "Hello" });
    expect(await within(lesson.closest("li")!).findByText("(completed)")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Pay and enroll/ })).not.toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Comment"), "<b>great</b>");
    await userEvent.click(screen.getByRole("button", { name: "Submit review" }));
    expect(await screen.findByText("Markup is not allowed in plain text")).toBeInTheDocument();
    expect(screen.getByLabelText("Comment")).toHaveAttribute("aria-invalid", "true");
  });
});
