import { Link } from "react-router";
import { useInfiniteQuery } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi, useSession } from "../context";
import { formatLevel } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

const STATUS: Record<Schemas["MyEnrollment"]["status"], string> = {
  enrolled: "Not started",
  in_progress: "In progress",
  completed: "Completed",
};

function Progress({ progress: p, title }: { progress: Schemas["MyEnrollment"]["progress"]; title: string }) {
  return (
    <span className="progress">
      <progress max={100} value={p.percentage} aria-label={`Progress in ${title}`}>
        {p.percentage}%
      </progress>{" "}
      {p.completed_lessons} of {p.total_lessons} lessons ({p.percentage}%)
    </span>
  );
}

function Enrollments() {
  const api = useApi();
  const { claims } = useSession();
  const list = useInfiniteQuery({
    queryKey: ["enrollments", claims?.sub],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/enrollments/me", { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      {list.isPending ? <Loading label="Loading your courses…" /> : null}
      <ErrorMessage error={list.error} prefix="Your courses could not be loaded" />
      {list.isSuccess && items.length === 0 ? (
        <p>
          You are not enrolled in any course yet. <Link to="/">Browse courses</Link>
        </p>
      ) : null}
      <ul className="cards">
        {items.map((e) => (
          <li key={e.id}>
            <article className="card">
              <h2>
                <Link to={`/courses/${e.course_id}`}>{e.course.title}</Link>
              </h2>
              <p>
                {formatLevel(e.course.level)} · {e.course.is_free ? "Free" : "Paid"} · <strong>{STATUS[e.status]}</strong>
              </p>
              <Progress progress={e.progress} title={e.course.title} />
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

export default function MyLearningPage() {
  usePageTitle("My learning");
  return (
    <RequireAuth title="My learning" roles={["student"]}>
      <h1>My learning</h1>
      <Enrollments />
    </RequireAuth>
  );
}
