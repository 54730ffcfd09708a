import { useMutation } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { unwrap } from "../api/client";
import { useApi, useMe, useSessionManager } from "../context";
import { Fact } from "../components/Facts";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

function AccountDetails() {
  const api = useApi();
  const session = useSessionManager();
  const navigate = useNavigate();
  const me = useMe();
  const logout = useMutation({
    mutationFn: () => session.logout(),
    onSettled: () => void navigate("/", { replace: true }),
  });
  const logoutAll = useMutation({
    mutationFn: () => unwrap(api.POST("/logout/all")),
    onSuccess: () => {
      session.signOutLocal();
      void navigate("/", { replace: true });
    },
  });
  return (
    <>
      {me.isPending ? <Loading /> : null}
      <ErrorMessage error={me.error} prefix="Your account could not be loaded" />
      {me.data ? (
        <dl className="facts">
          <Fact term="Name">{me.data.name}</Fact>
          <Fact term="Email">
            {me.data.email} {me.data.email_verified ? "(verified)" : "(not verified yet)"}
          </Fact>
          <Fact term="Role">
            {me.data.role}
            {me.data.role === "teacher" ? (me.data.is_verified ? " (verified)" : " (waiting for an administrator)") : ""}
          </Fact>
        </dl>
      ) : null}
      <h2>Sessions</h2>
      <p>Log out ends the session in this browser. Log out everywhere ends every session of your account, on every device.</p>
      <div className="actions">
        <button type="button" className="button" onClick={() => logout.mutate()} disabled={logout.isPending}>
          Log out
        </button>
        <button type="button" className="button" onClick={() => logoutAll.mutate()} disabled={logoutAll.isPending}>
          Log out everywhere
        </button>
      </div>
      <ErrorMessage error={logout.error} />
      <ErrorMessage error={logoutAll.error} prefix="Logging out everywhere failed" />
    </>
  );
}

export default function AccountPage() {
  usePageTitle("Account");
  return (
    <RequireAuth title="Account">
      <h1>Account</h1>
      <AccountDetails />
    </RequireAuth>
  );
}
