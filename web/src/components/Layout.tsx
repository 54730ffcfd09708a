import { Suspense, useEffect, useRef } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { useMutation, useQuery } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { useApi, useSession, useSessionManager } from "../context";
import { ErrorMessage, Loading } from "./Status";

function UnreadCount() {
  const api = useApi();
  const { claims } = useSession();
  const { data } = useQuery({
    queryKey: ["notifications", claims?.sub, "unread"],
    queryFn: () => unwrap(api.GET("/notifications/me", { params: { query: { limit: 1 } } })),
    refetchInterval: 60_000,
    staleTime: 15_000,
  });
  if (!data || data.unread === 0) return null;
  return (
    <span className="badge">
      {data.unread}
      <span className="visually-hidden"> unread</span>
    </span>
  );
}

function VerifyBanner() {
  const api = useApi();
  const resend = useMutation({ mutationFn: () => unwrap(api.POST("/resend-verification")) });
  return (
    <div className="banner" role="region" aria-label="Email verification">
      <p>
        Your email address is not verified yet. Follow the link in the email we sent you.{" "}
        <button type="button" className="link-button" onClick={() => resend.mutate()} disabled={resend.isPending}>
          Resend verification email
        </button>
      </p>
      {resend.isSuccess ? <p role="status">{resend.data?.message ?? "A new verification email is on its way."}</p> : null}
      <ErrorMessage error={resend.error} />
    </div>
  );
}

export function Layout() {
  const { status, claims, notice } = useSession();
  const session = useSessionManager();
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);

  // Move focus to the new page's content on navigation (not on the first load).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [location.pathname]);

  const signedIn = status === "signedIn" && claims;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          EduPlatform
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Courses
              </NavLink>
            </li>
            {signedIn && claims.role === "student" ? (
              <li>
                <NavLink to="/my-learning">My learning</NavLink>
              </li>
            ) : null}
            {signedIn && claims.role === "teacher" ? (
              <li>
                <NavLink to="/teach">My courses</NavLink>
              </li>
            ) : null}
            {signedIn && claims.role === "admin" ? (
              <li>
                <NavLink to="/admin/teachers">Pending teachers</NavLink>
              </li>
            ) : null}
            {signedIn ? (
              <>
                <li>
                  <NavLink to="/notifications">
                    Notifications <UnreadCount />
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/account">Account</NavLink>
                </li>
              </>
            ) : status === "signedOut" ? (
              <>
                <li>
                  <NavLink to="/login">Log in</NavLink>
                </li>
                <li>
                  <NavLink to="/register">Register</NavLink>
                </li>
              </>
            ) : null}
          </ul>
        </nav>
      </header>
      {signedIn && !claims.email_verified ? <VerifyBanner /> : null}
      {notice && status === "signedOut" ? (
        <div className="banner" role="alert">
          <p>
            {notice} <Link to="/login">Log in again</Link>{" "}
            <button type="button" className="link-button" onClick={() => session.clearNotice()}>
              Dismiss
            </button>
          </p>
        </div>
      ) : null}
      <main id="main" ref={mainRef} tabIndex={-1}>
        {status === "restoring" ? (
          <Loading label="Restoring your session…" />
        ) : (
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        )}
      </main>
      <footer className="site-footer">
        <p>EduPlatform</p>
      </footer>
    </>
  );
}
