import { useRef, useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { unwrap } from "../api/client";
import { fieldErrorsOf } from "../api/errors";
import { useApi, useSession, useSessionManager } from "../context";
import { TextField } from "../components/Field";
import { ErrorMessage } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

export default function RegisterPage() {
  usePageTitle("Register");
  const api = useApi();
  const session = useSessionManager();
  const { status } = useSession();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"student" | "teacher">("student");

  const justSignedIn = useRef(false);
  const register = useMutation({
    mutationFn: () => unwrap(api.POST("/register", { body: { name, email, password, role } })),
    onSuccess: (tokens) => {
      // navigate from here, not from the "already signed in" redirect below
      justSignedIn.current = true;
      session.accept(tokens);
      void navigate(role === "teacher" ? "/teach" : "/", { replace: true });
    },
  });

  if (status === "signedIn" && !justSignedIn.current) return <Navigate to="/" replace />;

  const fields = fieldErrorsOf(register.error);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    register.mutate();
  };

  return (
    <div className="narrow">
      <h1>Create an account</h1>
      <form onSubmit={onSubmit} noValidate>
        <TextField label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} error={fields.name} />
        <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={fields.email} />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          hint="8 to 72 characters."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={fields.password}
        />
        <fieldset className="field">
          <legend>I want to</legend>
          <div className="field-checkbox">
            <input id="role-student" type="radio" name="role" value="student" checked={role === "student"} onChange={() => setRole("student")} />
            <label htmlFor="role-student">Learn (student)</label>
          </div>
          <div className="field-checkbox">
            <input id="role-teacher" type="radio" name="role" value="teacher" checked={role === "teacher"} onChange={() => setRole("teacher")} />
            <label htmlFor="role-teacher">Teach (teacher; an administrator verifies teachers)</label>
          </div>
          {fields.role ? <span className="field-error">{fields.role}</span> : null}
        </fieldset>
        {register.isError && Object.keys(fields).length === 0 ? <ErrorMessage error={register.error} /> : null}
        <button type="submit" className="button" disabled={register.isPending}>
          {register.isPending ? "Creating account…" : "Create account"}
        </button>
      </form>
      <p>
        Already registered? <Link to="/login">Log in</Link>
      </p>
    </div>
  );
}
