import { useMutation, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi } from "../context";
import { formatDate } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { PagedList, useCursorPages } from "../components/PagedList";
import { ErrorMessage, Notice } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

function TeacherRow({ teacher }: { teacher: Schemas["PendingTeacher"] }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const verify = useMutation({
    mutationFn: () => unwrap(api.PATCH("/admin/users/{user_id}/verify", { params: { path: { user_id: teacher.id } } })),
    // marked stale, not refetched: refetching every loaded page of a long list for one row is wasteful
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["pending-teachers"], refetchType: "none" }),
  });
  return (
    <li className="row">
      <div>
        <strong>{teacher.name}</strong> <span>{teacher.email}</span>{" "}
        <span className="hint">registered {formatDate(teacher.created_at)}</span>
      </div>
      {verify.isSuccess ? (
        <Notice>{teacher.name} is verified.</Notice>
      ) : (
        <button type="button" className="button" onClick={() => verify.mutate()} disabled={verify.isPending} aria-label={`Verify ${teacher.name}`}>
          Verify
        </button>
      )}
      <ErrorMessage error={verify.error} prefix={`${teacher.name} could not be verified`} />
    </li>
  );
}

function PendingList() {
  const api = useApi();
  const list = useCursorPages(["pending-teachers"], (page) => unwrap(api.GET("/admin/teachers/pending", { params: { query: page } })));
  return (
    <PagedList
      list={list}
      loadingLabel="Loading teachers…"
      errorPrefix="Pending teachers could not be loaded"
      empty={<p>No teacher is waiting for verification.</p>}
    >
      {(items) => (
        <ul className="rows" aria-label="Teachers waiting for verification">
          {items.map((t) => (
            <TeacherRow key={t.id} teacher={t} />
          ))}
        </ul>
      )}
    </PagedList>
  );
}

export default function PendingTeachersPage() {
  usePageTitle("Pending teachers");
  return (
    <RequireAuth title="Pending teachers" roles={["admin"]}>
      <h1>Pending teachers</h1>
      <PendingList />
    </RequireAuth>
  );
}
