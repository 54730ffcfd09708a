import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./api/errors";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        // Answers in words (4xx) are final; a network failure or 5xx is tried once more.
        retry: (count, error) => count < 1 && !(error instanceof ApiError && error.status < 500),
      },
      mutations: { retry: false },
    },
  });
}
