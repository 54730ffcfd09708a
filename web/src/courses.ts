import { useQuery } from "@tanstack/react-query";
import { unwrap } from "./api/client";
import { useApi, useSession } from "./context";

/** One course (GET /courses/{id}); `enabled: false` while there is no id to ask for. */
export function useCourse(courseId: string, { enabled = true }: { enabled?: boolean } = {}) {
  const api = useApi();
  return useQuery({
    queryKey: ["course", courseId],
    enabled,
    queryFn: () => unwrap(api.GET("/courses/{course_id}", { params: { path: { course_id: courseId } } })),
  });
}

/** A course's modules and lessons as the signed-in user may see them (hence the user in the key). */
export function useCurriculum(courseId: string) {
  const api = useApi();
  const { claims } = useSession();
  return useQuery({
    queryKey: ["curriculum", courseId, claims?.sub],
    queryFn: () => unwrap(api.GET("/courses/{course_id}/curriculum", { params: { path: { course_id: courseId } } })),
  });
}
