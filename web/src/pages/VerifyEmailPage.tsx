import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { useApi, useSession, useSessionManager } from "../context";
import { ErrorMessage, Loading } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

export default function VerifyEmailPage() {
  usePageTitle("Verify email");
  const api = useApi();
  const session = useSessionManager();
  const { status } = useSession();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const started = useRef(false);

  const verify = useMutation({
    mutationFn: () => unwrap(api.POST("/verify-email", { body: { token } })),
    // a fresh access token carries email_verified: true
    onSuccess: () => {
      if (status === "signedIn") void session.refresh();
    },
  });

  useEffect(() => {
    // The token is single use: send it once, even under StrictMode's double effects.
    if (token && !started.current) {
      started.current = true;
      verify.mutate();
    }
  }, [token, verify]);

  return (
    <div className="narrow">
      <h1>Verify email</h1>
      {!token ? <p role="alert" className="error">This link has no token. Open the link from the email again.</p> : null}
      {verify.isPending ? <Loading label="Verifying your email address…" /> : null}
      {verify.isSuccess ? (
        <p role="status">
          Thank you: {verify.data.email} is verified. <Link to="/">Browse courses</Link>
        </p>
      ) : null}
      {verify.isError ? (
        <>
          <ErrorMessage error={verify.error} />
          <p>A verification link works once and for 24 hours. Log in and use “Resend verification email” to get a new one.</p>
        </>
      ) : null}
    </div>
  );
}
