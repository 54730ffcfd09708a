import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi, useSession } from "../context";
import { formatDate } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { ErrorMessage, Loading } from "../components/Status";
import { usePageTitle } from "../usePageTitle";

function NotificationRow({ n }: { n: Schemas["NotificationOut"] }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const read = useMutation({
    mutationFn: () => unwrap(api.PATCH("/notifications/{notification_id}/read", { params: { path: { notification_id: n.id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["notifications"] }),
  });
  const isRead = n.is_read || read.isSuccess;
  return (
    <li className={isRead ? "row" : "row unread"}>
      <div>
        <strong>{n.title}</strong>
        {isRead ? null : <span className="tag">New</span>}
        {n.body ? <p>{n.body}</p> : null}
        <span className="hint">{formatDate(n.created_at)}</span>
      </div>
      {isRead ? null : (
        <button type="button" className="button" onClick={() => read.mutate()} disabled={read.isPending} aria-label={`Mark as read: ${n.title}`}>
          Mark as read
        </button>
      )}
      <ErrorMessage error={read.error} />
    </li>
  );
}

function NotificationList() {
  const api = useApi();
  const { claims } = useSession();
  const list = useInfiniteQuery({
    queryKey: ["notifications", claims?.sub, "list"],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/notifications/me", { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const unread = list.data?.pages[0]?.unread;
  return (
    <>
      {unread !== undefined ? <p>{unread === 0 ? "No unread notifications." : `${unread} unread.`}</p> : null}
      {list.isPending ? <Loading label="Loading notifications…" /> : null}
      <ErrorMessage error={list.error} prefix="Notifications could not be loaded" />
      {list.isSuccess && items.length === 0 ? <p>No notifications yet.</p> : null}
      <ul className="rows">
        {items.map((n) => (
          <NotificationRow key={n.id} n={n} />
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

export default function NotificationsPage() {
  usePageTitle("Notifications");
  return (
    <RequireAuth title="Notifications">
      <h1>Notifications</h1>
      <NotificationList />
    </RequireAuth>
  );
}
