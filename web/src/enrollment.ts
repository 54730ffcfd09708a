import { useQuery } from "@tanstack/react-query";
import { unwrap, type Api, type Schemas } from "./api/client";
import { useApi, useSession } from "./context";

/** The caller's enrollment in one course (GET /enrollments/me?course_id=: a page of 0 or 1 item). */
export async function findEnrollment(api: Api, courseId: string): Promise<Schemas["MyEnrollment"] | null> {
  const data = await unwrap(api.GET("/enrollments/me", { params: { query: { course_id: courseId, limit: 1 } } }));
  return data.items[0] ?? null;
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
