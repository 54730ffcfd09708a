import type { ReactNode } from "react";
import { useInfiniteQuery, type InfiniteData, type keepPreviousData, type QueryKey, type UseInfiniteQueryResult } from "@tanstack/react-query";
import { ErrorMessage, Loading } from "./Status";

/** A page of a list the API pages by cursor. */
export interface CursorPage {
  items: unknown[];
  next_cursor?: string | null;
}

/** The query parameters of one page: its size, and the cursor of the page before (none for the first). */
export interface PageQuery {
  limit: number;
  cursor?: string;
}

export type CursorPages<P extends CursorPage> = UseInfiniteQueryResult<InfiniteData<P, string | null>>;

/**
 * A list fetched a page at a time, following `next_cursor`. `fetchPage` gets the query's context
 * as it is: reading its `signal` lets the query cancel the request when nothing shows it any more.
 * `placeholderData: keepPreviousData` keeps the last list on show while a changed key loads.
 */
export function useCursorPages<P extends CursorPage>(
  queryKey: QueryKey,
  fetchPage: (page: PageQuery, context: { signal: AbortSignal }) => Promise<P>,
  { limit = 20, placeholderData }: { limit?: number; placeholderData?: typeof keepPreviousData } = {},
): CursorPages<P> {
  return useInfiniteQuery({
    queryKey,
    initialPageParam: null as string | null,
    placeholderData,
    queryFn: (context) => fetchPage(context.pageParam ? { limit, cursor: context.pageParam } : { limit }, context),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

/** The items of every page loaded so far, with the loading, error and empty states and a "load more" button. */
export function PagedList<P extends CursorPage>({
  list,
  loadingLabel,
  errorPrefix,
  empty,
  moreLabel = "Load more",
  loadingMoreLabel = moreLabel,
  children,
}: {
  list: CursorPages<P>;
  loadingLabel: string;
  errorPrefix: string;
  /** Shown once the list has loaded and holds nothing. */
  empty: ReactNode;
  moreLabel?: string;
  /** The button's text while the next page loads. */
  loadingMoreLabel?: string;
  children: (items: P["items"][number][]) => ReactNode;
}) {
  const items = list.data?.pages.flatMap((page): P["items"][number][] => page.items) ?? [];
  return (
    <>
      {list.isPending ? <Loading label={loadingLabel} /> : null}
      <ErrorMessage error={list.error} prefix={errorPrefix} />
      {list.isSuccess && items.length === 0 ? empty : null}
      {children(items)}
      {list.hasNextPage ? (
        <button type="button" className="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? loadingMoreLabel : moreLabel}
        </button>
      ) : null}
    </>
  );
}
