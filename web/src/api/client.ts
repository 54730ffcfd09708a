import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { apiErrorFrom } from "./errors";
import type { Session } from "./session";

export type Schemas = components["schemas"];
export type Api = ReturnType<typeof createApi>;

export function createApi(apiUrl: string, session: Session) {
  return createClient<paths>({ baseUrl: apiUrl.replace(/\/+$/, ""), fetch: session.fetch });
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Awaits an openapi-fetch call and throws an ApiError (with the API's words) unless it is 2xx. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw apiErrorFrom(response.status, error, response.headers.get("Retry-After"));
  return data as T;
}

/** A key for one payment attempt, reused when that attempt is retried. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
