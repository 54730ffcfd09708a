import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useApi } from "../context";
import { TextField } from "../components/Field";
import { ErrorMessage } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

export default function ForgotPasswordPage() {
  usePageTitle("Forgot password");
  const api = useApi();
  const [email, setEmail] = useState("");
  const request = useMutation({ mutationFn: () => unwrap(api.POST("/forgot-password", { body: { email } })) });
  const fields = fieldErrorsOf(request.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    request.mutate();
  };
  return (
    <div className="narrow">
      <h1>Forgot password</h1>
      {request.isSuccess ? (
        <p role="status">If an account uses {email}, an email with a link to choose a new password is on its way. The link works for one hour.</p>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fields.email} />
          {request.isError && !fields.email ? <ErrorMessage error={request.error} /> : null}
          <button type="submit" className="button" disabled={request.isPending}>
            Send reset link
          </button>
        </form>
      )}
      <p>
        <Link to="/login">Back to log in</Link>
      </p>
    </div>
  );
}
