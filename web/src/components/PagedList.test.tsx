import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "../api/errors";
import { createQueryClient } from "../queryClient";
import { PagedList, useCursorPages, type PageQuery } from "./PagedList";

interface Page {
  items: { id: string }[];
  next_cursor: string | null;
}

function Names({ fetchPage, limit }: { fetchPage: (page: PageQuery) => Promise<Page>; limit?: number }) {
  const list = useCursorPages(["names"], (page) => fetchPage(page), limit ? { limit } : {});
  return (
    <PagedList list={list} loadingLabel="Loading names…" errorPrefix="Names could not be loaded" empty={<p>No names yet.</p>} loadingMoreLabel="Loading more…">
      {(items) => (
        <ul aria-label="Names">
          {items.map((item) => (
            <li key={item.id}>{item.id}</li>
          ))}
        </ul>
      )}
    </PagedList>
  );
}

function show(fetchPage: (page: PageQuery) => Promise<Page>, limit?: number) {
  return render(
    <QueryClientProvider client={createQueryClient()}>
      <Names fetchPage={fetchPage} {...(limit ? { limit } : {})} />
    </QueryClientProvider>,
  );
}

describe("PagedList", () => {
  it("loads the next page from the last cursor, appends it and stops at the last page", async () => {
    const asked: PageQuery[] = [];
    let releaseSecond: () => void = () => {};
    show(async (page) => {
      asked.push(page);
      if (!page.cursor) return { items: [{ id: "ada" }, { id: "grace" }], next_cursor: "after-grace" };
      await new Promise<void>((resolve) => (releaseSecond = resolve));
      return { items: [{ id: "alan" }], next_cursor: null };
    }, 2);

    expect(screen.getByRole("status")).toHaveTextContent("Loading names…");
    expect(await screen.findByText("grace")).toBeInTheDocument();
    expect(screen.queryByText("Loading names…")).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    const busy = await screen.findByRole("button", { name: "Loading more…" });
    expect(busy).toBeDisabled();
    releaseSecond();

    expect(await screen.findByText("alan")).toBeInTheDocument();
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["ada", "grace", "alan"]);
    expect(screen.queryByRole("button", { name: /Load more|Loading more/ })).not.toBeInTheDocument();
    expect(asked).toEqual([{ limit: 2 }, { limit: 2, cursor: "after-grace" }]);
  });

  it("says when the list is empty, with no button", async () => {
    show(async () => ({ items: [], next_cursor: null }));
    expect(await screen.findByText("No names yet.")).toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });

  it("asks for 20 items a page unless told otherwise", async () => {
    const asked: PageQuery[] = [];
    show(async (page) => {
      asked.push(page);
      return { items: [{ id: "ada" }], next_cursor: null };
    });
    expect(await screen.findByText("ada")).toBeInTheDocument();
    expect(asked).toEqual([{ limit: 20 }]);
  });

  it("shows a failure in words with its prefix, not the empty state", async () => {
    show(async () => {
      throw new ApiError(403, "You are not allowed to do this.");
    });
    expect(await screen.findByRole("alert")).toHaveTextContent("Names could not be loaded: You are not allowed to do this.");
    expect(screen.queryByText("No names yet.")).not.toBeInTheDocument();
    expect(screen.queryByRole("status")).not.toBeInTheDocument();
  });
});
