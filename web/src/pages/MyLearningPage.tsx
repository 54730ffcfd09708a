import { Link } from "react-router";
import { unwrap, type Schemas } from "../api/client";
import { useApi, useSession } from "../context";
import { formatLevel } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { PagedList, useCursorPages } from "../components/PagedList";
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
  const list = useCursorPages(["enrollments", claims?.sub], (page) => unwrap(api.GET("/enrollments/me", { params: { query: page } })));
  return (
    <PagedList
      list={list}
      loadingLabel="Loading your courses…"
      errorPrefix="Your courses could not be loaded"
      empty={
        <p>
          You are not enrolled in any course yet. <Link to="/">Browse courses</Link>
        </p>
      }
    >
      {(items) => (
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
      )}
    </PagedList>
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
