import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import CourseEditorPage from "./CourseEditorPage";
import { fakeApi, json, renderPage, tokens, type Call } from "../test/helpers";

const COURSE_ID = "11111111-1111-1111-1111-111111111111";

const course = {
  id: COURSE_ID,
  teacher_id: "t1",
  teacher_name: "Grace Hopper",
  title: "Rust for beginners",
  description: null,
  is_free: true,
  price: null,
  duration_minutes: 0,
  level: "beginner",
  avg_rating: null,
  review_count: 0,
  created_at: "2026-01-01T00:00:00+00:00",
  category_id: null,
};

function lesson(id: string, title: string) {
  return { id, module_id: "m1", title, content: null, video_url: null, duration_minutes: 5, order: 0, is_preview: false, created_at: "x" };
}

function editorApi(routes: Record<string, (call: Call) => Response> = {}) {
  const modules = [{ id: "m1", course_id: COURSE_ID, title: "Basics", order: 0, created_at: "x", lessons: [lesson("l1", "Hello")] }];
  return fakeApi({
    "GET /courses/:id": () => json(200, course),
    "GET /categories": () => json(200, { items: [] }),
    "GET /courses/:id/curriculum": () => json(200, { course, total_lessons: 1, modules }),
    ...routes,
  });
}

function openEditor(api: ReturnType<typeof fakeApi>) {
  renderPage(<CourseEditorPage />, {
    path: "/teach/courses/:courseId",
    route: `/teach/courses/${COURSE_ID}`,
    fetch: api.fetch,
    signedIn: tokens("t1", "teacher", "rt-1"),
  });
}

const sent = (api: ReturnType<typeof fakeApi>, method: string, path: string) =>
  api.calls.filter((c) => c.method === method && c.path === path).map((c) => c.body);

describe("Course editor: modules and lessons", () => {
  it("saves a module's title and order, and leaves the order out when its field is empty", async () => {
    const api = editorApi({ "PUT /modules/:id": (call) => json(200, { id: "m1", course_id: COURSE_ID, order: 0, created_at: "x", ...(call.body as object) }) });
    openEditor(api);
    const form = await screen.findByRole("form", { name: "Edit module Basics" });
    await userEvent.clear(within(form).getByLabelText("Module title"));
    await userEvent.type(within(form).getByLabelText("Module title"), "Foundations");
    await userEvent.clear(within(form).getByLabelText("Module order"));
    await userEvent.type(within(form).getByLabelText("Module order"), "3");
    await userEvent.click(within(form).getByRole("button", { name: "Save module" }));
    expect(await within(form).findByText("Module saved.")).toBeInTheDocument();

    await userEvent.clear(within(form).getByLabelText("Module order"));
    await userEvent.click(within(form).getByRole("button", { name: "Save module" }));
    await waitFor(() => expect(sent(api, "PUT", "/modules/m1")).toHaveLength(2));
    expect(sent(api, "PUT", "/modules/m1")).toEqual([{ title: "Foundations", order: 3 }, { title: "Foundations" }]);
  });

  it("shows a lesson's 422 at its field and no general error", async () => {
    const api = editorApi({
      "PUT /lessons/:id": () => json(422, { detail: [{ loc: ["body", "video_url"], msg: "URL scheme should be 'http' or 'https'", type: "url_scheme" }] }),
    });
    openEditor(api);
    const form = await screen.findByRole("form", { name: "Lesson Hello" });
    await userEvent.type(within(form).getByLabelText("Video URL"), "ftp://example.com/v.mp4");
    await userEvent.click(within(form).getByRole("checkbox", { name: "Free preview" }));
    await userEvent.click(within(form).getByRole("button", { name: "Save lesson" }));

    const video = within(form).getByLabelText("Video URL");
    await waitFor(() => expect(video).toHaveAttribute("aria-invalid", "true"));
    expect(video).toHaveAccessibleDescription("URL scheme should be 'http' or 'https'");
    expect(within(form).queryByRole("alert")).not.toBeInTheDocument();
    expect(within(form).queryByText("Lesson saved.")).not.toBeInTheDocument();
    expect(sent(api, "PUT", "/lessons/l1")).toEqual([
      { title: "Hello", content: null, video_url: "ftp://example.com/v.mp4", duration_minutes: 5, order: 0, is_preview: true },
    ]);
  });

  it("deletes a lesson only once confirmed, and says when that failed", async () => {
    const api = editorApi({ "DELETE /lessons/:id": () => json(409, { detail: "The lesson has completions" }) });
    const confirm = vi.spyOn(window, "confirm").mockReturnValueOnce(false).mockReturnValueOnce(true);
    openEditor(api);
    const form = await screen.findByRole("form", { name: "Lesson Hello" });
    await userEvent.click(within(form).getByRole("button", { name: "Delete lesson" }));
    expect(confirm).toHaveBeenLastCalledWith("Delete the lesson “Hello”?");
    expect(sent(api, "DELETE", "/lessons/l1")).toHaveLength(0);

    await userEvent.click(within(form).getByRole("button", { name: "Delete lesson" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent("The lesson could not be deleted: The lesson has completions");
    expect(sent(api, "DELETE", "/lessons/l1")).toHaveLength(1);
  });

  it("adds a lesson and a module by title, emptying each field once it worked", async () => {
    const api = editorApi({
      "POST /modules/:id/lessons": (call) => json(201, { ...lesson("l2", (call.body as { title: string }).title) }),
      "POST /courses/:id/modules": () => json(422, { detail: [{ loc: ["body", "title"], msg: "String should have at least 1 character", type: "string_too_short" }] }),
    });
    openEditor(api);
    const addLesson = await screen.findByRole("form", { name: "Add a lesson to Basics" });
    await userEvent.type(within(addLesson).getByLabelText("New lesson title"), "Ownership");
    await userEvent.click(within(addLesson).getByRole("button", { name: "Add lesson" }));
    await waitFor(() => expect(within(addLesson).getByLabelText("New lesson title")).toHaveValue(""));
    expect(sent(api, "POST", "/modules/m1/lessons")).toEqual([{ title: "Ownership", duration_minutes: 0, is_preview: false }]);

    const addModule = screen.getByRole("form", { name: "Add a module" });
    await userEvent.click(within(addModule).getByRole("button", { name: "Add module" }));
    const title = within(addModule).getByLabelText("New module title");
    await waitFor(() => expect(title).toHaveAccessibleDescription("String should have at least 1 character"));
    expect(within(addModule).queryByRole("alert")).not.toBeInTheDocument();
    expect(sent(api, "POST", `/courses/${COURSE_ID}/modules`)).toEqual([{ title: "" }]);
  });
});
