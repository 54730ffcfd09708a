import { useMutation, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi, useSession } from "../context";
import { formatDate } from "../format";
import { RequireAuth } from "../components/RequireAuth";
import { PagedList, useCursorPages } from "../components/PagedList";
import { ErrorMessage } from "../components/Status";
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
  const list = useCursorPages(["notifications", claims?.sub, "list"], (page) =>
    unwrap(api.GET("/notifications/me", { params: { query: page } })),
  );
  const unread = list.data?.pages[0]?.unread;
  return (
    <>
      {unread !== undefined ? <p>{unread === 0 ? "No unread notifications." : `${unread} unread.`}</p> : null}
      <PagedList list={list} loadingLabel="Loading notifications…" errorPrefix="Notifications could not be loaded" empty={<p>No notifications yet.</p>}>
        {(items) => (
          <ul className="rows">
            {items.map((n) => (
              <NotificationRow key={n.id} n={n} />
            ))}
          </ul>
        )}
      </PagedList>
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
