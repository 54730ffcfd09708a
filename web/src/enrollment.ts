import { useQuery } from "@tanstack/react-query";
import { unwrap, type Api, type Schemas } from "./api/client";
import { useApi, useSession } from "./context";

/**
 * The caller's enrollment in one course, found by paging GET /enrollments/me (the API has no
 * lookup by course; 100 a page, so one request for almost everyone).
 */
export async function findEnrollment(api: Api, courseId: string): Promise<Schemas["MyEnrollment"] | null> {
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const data = await unwrap(api.GET("/enrollments/me", { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
    const found = data.items.find((e) => e.course_id === courseId);
    if (found) return found;
    if (!data.next_cursor) return null;
    cursor = data.next_cursor;
  }
  return null;
}

export function useEnrollment(courseId: string) {
  const api = useApi();
  const { status, claims } = useSession();
  return useQuery({
    queryKey: ["enrollment", claims?.sub, courseId],
    enabled: status === "signedIn" && claims?.role === "student",
    queryFn: () => findEnrollment(api, courseId),
  });
}

export function useCompletedLessons(courseId: string, enabled: boolean) {
  const api = useApi();
  const { claims } = useSession();
  return useQuery({
    queryKey: ["completed", claims?.sub, courseId],
    enabled,
    queryFn: () =>
      unwrap(api.GET("/progress/courses/{course_id}/lessons", { params: { path: { course_id: courseId } } })).then(
        (d) => new Set(d.completed_lesson_ids),
      ),
  });
}
