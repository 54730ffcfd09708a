import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import MyLearningPage from "./MyLearningPage";
import { fakeApi, json, renderPage, tokens } from "../test/helpers";

const C = "11111111-1111-1111-1111-111111111111";

describe("My learning page", () => {
  it("shows each enrollment's progress from the list, with no progress request per course", async () => {
    const api = fakeApi({
      "GET /enrollments/me": () =>
        json(200, {
          items: [
            { id: "e", student_id: "u1", course_id: C, payment_id: null, status: "in_progress", enrolled_at: "x", course: { id: C, title: "Rust", level: "beginner", is_free: true }, progress: { completed_lessons: 1, total_lessons: 3, percentage: 33.3 } },
          ],
          next_cursor: null,
        }),
    });
    renderPage(<MyLearningPage />, { path: "/my-learning", route: "/my-learning", fetch: api.fetch, signedIn: tokens("u1", "student", "rt-1") });
    expect(await screen.findByText("1 of 3 lessons (33.3%)", { exact: false })).toBeInTheDocument();
    expect(screen.getByRole("progressbar", { name: "Progress in Rust" })).toHaveAttribute("value", "33.3");
    expect(api.calls.filter((c) => c.path.startsWith("/progress"))).toEqual([]);
  });
});
