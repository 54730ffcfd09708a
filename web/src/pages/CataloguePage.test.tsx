import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { CataloguePage } from "./CataloguePage";
import { fakeApi, json, renderPage } from "../test/helpers";

function course(n: number, extra: Record<string, unknown> = {}) {
  return {
    id: `00000000-0000-0000-0000-${String(n).padStart(12, "0")}`,
    teacher_id: "t1",
    teacher_name: n === 1 ? "Grace Hopper" : null,
    title: `Course ${n}`,
    description: null,
    is_free: n % 2 === 0,
    price: n % 2 === 0 ? null : "49.99",
    duration_minutes: 60,
    level: "beginner",
    avg_rating: n === 1 ? 4.5 : null,
    review_count: n === 1 ? 2 : 0,
    created_at: "2026-01-01T00:00:00+00:00",
    category_id: null,
    ...extra,
  };
}

const categories = () => json(200, { items: [{ id: "c1", slug: "web", name: "Web development" }] });

describe("Catalogue", () => {
  it("lists courses as articles with heading links and loads more by cursor", async () => {
    const api = fakeApi({
      "GET /categories": categories,
      "GET /courses": (call) =>
        call.search.get("cursor") === "page-2"
          ? json(200, { items: [course(3)], next_cursor: null })
          : json(200, { items: [course(1), course(2)], next_cursor: "page-2" }),
    });
    renderPage(<CataloguePage />, { fetch: api.fetch });

    const first = await screen.findByRole("link", { name: "Course 1" });
    expect(first.closest("article")).not.toBeNull();
    expect(within(first.closest("article")!).getByText("$49.99")).toBeInTheDocument();
    expect(screen.getByText("Rated 4.5 out of 5 (2 reviews)")).toBeInTheDocument();
    expect(within(first.closest("article")!).getByText("Grace Hopper")).toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1, name: "Courses" })).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "Course 3" })).toBeInTheDocument();
    expect(screen.getAllByRole("article")).toHaveLength(3);
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
    const courseCalls = api.calls.filter((c) => c.path === "/courses");
    expect(courseCalls[1]!.search.get("cursor")).toBe("page-2");
  });

  it("searches as you type (debounced) and combines filters and sort", async () => {
    const api = fakeApi({ "GET /categories": categories, "GET /courses": () => json(200, { items: [], next_cursor: null }) });
    renderPage(<CataloguePage />, { fetch: api.fetch });
    await screen.findByText(/No courses match/);

    await userEvent.selectOptions(screen.getByLabelText("Level"), "advanced");
    await userEvent.selectOptions(screen.getByLabelText("Sort by"), "popular");
    await userEvent.type(screen.getByLabelText("Search courses"), "python");

    await waitFor(() => {
      const last = api.calls.filter((c) => c.path === "/courses").at(-1)!;
      expect(last.search.get("q")).toBe("python");
    });
    const searches = api.calls.filter((c) => c.path === "/courses" && c.search.get("q"));
    // one request for the finished word, not one per keystroke
    expect(searches.map((c) => c.search.get("q"))).toEqual(["python"]);
    expect(searches[0]!.search.get("level")).toBe("advanced");
    expect(searches[0]!.search.get("sort")).toBe("popular");
  });

  it("shows a 422 at the price field and a server failure in words", async () => {
    let fail = false;
    const api = fakeApi({
      "GET /categories": categories,
      "GET /courses": (call) =>
        fail
          ? json(503, { detail: "The catalogue is unavailable; retry later" })
          : call.search.get("price_max")
            ? json(422, { detail: [{ loc: ["query", "price_max"], msg: "price_max must not be below price_min", type: "value_error" }] })
            : json(200, { items: [course(2)], next_cursor: null }),
    });
    renderPage(<CataloguePage />, { fetch: api.fetch });
    await screen.findByRole("link", { name: "Course 2" });
    await userEvent.type(screen.getByLabelText("Minimum price"), "50");
    await userEvent.type(screen.getByLabelText("Maximum price"), "10");
    expect(await screen.findByText("price_max must not be below price_min")).toBeInTheDocument();
    expect(screen.getByLabelText("Maximum price")).toHaveAttribute("aria-invalid", "true");

    fail = true;
    await userEvent.clear(screen.getByLabelText("Maximum price"));
    expect(await screen.findByText(/The catalogue is unavailable; retry later/, {}, { timeout: 4000 })).toBeInTheDocument();
  });
});
