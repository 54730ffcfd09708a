import type { ReactNode } from "react";
import { Link, useLocation } from "react-router";
import { useSession } from "../context";
import type { Role } from "../api/session";

/** Shows its children to a signed-in user of one of `roles`, otherwise says why not (with an h1). */
export function RequireAuth({ roles, title, children }: { roles?: Role[]; title: string; children: ReactNode }) {
  const { status, claims } = useSession();
  const location = useLocation();
  if (status !== "signedIn" || !claims) {
    const next = encodeURIComponent(location.pathname + location.search);
    return (
      <>
        <h1>{title}</h1>
        <p>
          Please <Link to={`/login?next=${next}`}>log in</Link> to see this page.
        </p>
      </>
    );
  }
  if (roles && !roles.includes(claims.role)) {
    return (
      <>
        <h1>{title}</h1>
        <p role="alert" className="error">
          This page is for {roles.map((r) => `${r}s`).join(" and ")}; you are signed in as a {claims.role}.
        </p>
      </>
    );
  }
  return <>{children}</>;
}
