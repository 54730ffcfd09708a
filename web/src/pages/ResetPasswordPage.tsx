import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useApi, useSessionManager } from "../context";
import { TextField } from "../components/Field";
import { ErrorMessage } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

export default function ResetPasswordPage() {
  usePageTitle("Choose a new password");
  const api = useApi();
  const session = useSessionManager();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const reset = useMutation({
    mutationFn: () => unwrap(api.POST("/reset-password", { body: { token, new_password: password } })),
    // a reset ends every session of the account, this one included
    onSuccess: () => session.signOutLocal(),
  });
  const fields = fieldErrorsOf(reset.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    reset.mutate();
  };
  return (
    <div className="narrow">
      <h1>Choose a new password</h1>
      {!token ? (
        <p role="alert" className="error">
          This link has no token. <Link to="/forgot-password">Ask for a new link</Link>.
        </p>
      ) : reset.isSuccess ? (
        <p role="status">
          Your password is changed and every session of your account has ended. <Link to="/login">Log in</Link> with the new password.
        </p>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            hint="8 to 72 characters."
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={fields.new_password}
          />
          {reset.isError && !fields.new_password ? (
            <>
              <ErrorMessage error={reset.error} />
              {fields.token || reset.error ? (
                <p>
                  <Link to="/forgot-password">Ask for a new link</Link>
                </p>
              ) : null}
            </>
          ) : null}
          <button type="submit" className="button" disabled={reset.isPending}>
            Set new password
          </button>
        </form>
      )}
    </div>
  );
}
