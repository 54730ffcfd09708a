import { Link } from "react-router";
import { unwrap } from "../api/client";
import { useApi, useSession } from "../context";
import { formatLevel, formatPrice, formatRating } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { PagedList, useCursorPages } from "../components/PagedList";
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
  const list = useCursorPages(["my-courses", claims?.sub], (page) => unwrap(api.GET("/courses/my", { params: { query: page } })));
  return (
    <PagedList list={list} loadingLabel="Loading your courses…" errorPrefix="Your courses could not be loaded" empty={<p>You have no courses yet.</p>}>
      {(items) => (
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
      )}
    </PagedList>
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
