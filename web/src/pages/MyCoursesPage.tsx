import { Link } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { useApi, useSession } from "../context";
import { formatLevel, formatPrice, formatRating } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

export function UnverifiedTeacher() {
  return (
    <p className="banner" role="status">
      Your teacher account is waiting for an administrator to verify it. Until then you cannot create or edit courses. You
      will get access as soon as you are verified (log out and in again if it does not show).
    </p>
  );
}

function CourseList() {
  const api = useApi();
  const { claims } = useSession();
  const list = useInfiniteQuery({
    queryKey: ["my-courses", claims?.sub],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/courses/my", { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      {list.isPending ? <Loading label="Loading your courses…" /> : null}
      <ErrorMessage error={list.error} prefix="Your courses could not be loaded" />
      {list.isSuccess && items.length === 0 ? <p>You have no courses yet.</p> : null}
      <ul className="cards">
        {items.map((c) => (
          <li key={c.id}>
            <article className="card">
              <h2>
                <Link to={`/teach/courses/${c.id}`}>{c.title}</Link>
              </h2>
              <p>
                {formatLevel(c.level)} · {formatPrice(c)} · {formatRating(c)}
              </p>
              <p>
                <Link to={`/courses/${c.id}`}>
                  View public page<span className="visually-hidden"> of {c.title}</span>
                </Link>
              </p>
            </article>
          </li>
        ))}
      </ul>
      {list.hasNextPage ? (
        <button type="button" className="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      ) : null}
    </>
  );
}

export default function MyCoursesPage() {
  usePageTitle("My courses");
  const { claims } = useSession();
  return (
    <RequireAuth title="My courses" roles={["teacher"]}>
      <h1>My courses</h1>
      {claims?.is_verified ? (
        <p>
          <Link className="button" to="/teach/courses/new">
            Create course
          </Link>
        </p>
      ) : (
        <UnverifiedTeacher />
      )}
      <CourseList />
    </RequireAuth>
  );
}
