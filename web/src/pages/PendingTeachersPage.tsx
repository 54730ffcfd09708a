import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi } from "../context";
import { formatDate } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading, Notice } from "../components/Status";
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
  const list = useInfiniteQuery({
    queryKey: ["pending-teachers"],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/admin/teachers/pending", { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      {list.isPending ? <Loading label="Loading teachers…" /> : null}
      <ErrorMessage error={list.error} prefix="Pending teachers could not be loaded" />
      {list.isSuccess && items.length === 0 ? <p>No teacher is waiting for verification.</p> : null}
      <ul className="rows" aria-label="Teachers waiting for verification">
        {items.map((t) => (
          <TeacherRow key={t.id} teacher={t} />
        ))}
      </ul>
      {list.hasNextPage ? (
        <button type="button" className="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      ) : null}
    </>
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
