import { useRef, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useApi, useSession, useSessionManager } from "../context";
import { TextField } from "../components/Field";
import { ErrorMessage } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

/** Only paths of this app, so ?next= cannot send anyone elsewhere. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export default function LoginPage() {
  usePageTitle("Log in");
  const api = useApi();
  const session = useSessionManager();
  const { status } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  const justSignedIn = useRef(false);
  const login = useMutation({
    mutationFn: () => unwrap(api.POST("/login", { body: { email, password } })),
    onSuccess: (tokens) => {
      // navigate from here, not from the "already signed in" redirect below
      justSignedIn.current = true;
      session.accept(tokens);
      void navigate(next, { replace: true });
    },
  });

  if (status === "signedIn" && !justSignedIn.current) return <Navigate to={next} replace />;

  const fields = fieldErrorsOf(login.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  const hasFieldErrors = Object.keys(fields).length > 0;

  return (
    <div className="narrow">
      <h1>Log in</h1>
      <form onSubmit={onSubmit} noValidate aria-describedby={login.isError ? "login-error" : undefined}>
        <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fields.email} />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fields.password}
        />
        {login.isError && !hasFieldErrors ? (
          <div id="login-error">
            <ErrorMessage error={login.error} />
          </div>
        ) : null}
        <button type="submit" className="button" disabled={login.isPending}>
          {login.isPending ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        No account yet? <Link to="/register">Create an account</Link>
      </p>
    </div>
  );
}
