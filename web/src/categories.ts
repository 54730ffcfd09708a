import { useQuery } from "@tanstack/react-query";
import { unwrap } from "./api/client";
import { useApi } from "./context";

/** The course categories, which change rarely. */
export function useCategories() {
  const api = useApi();
  return useQuery({ queryKey: ["categories"], staleTime: 10 * 60_000, queryFn: () => unwrap(api.GET("/categories")) });
}
