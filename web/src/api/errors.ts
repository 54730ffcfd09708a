/** An answer of the API other than 2xx, in words, with the 422 messages by field. */
export class ApiError extends Error {
  readonly status: number;
  /** Messages of a FastAPI-style 422, keyed by the last element of `loc` (e.g. "email"). */
  readonly fieldErrors: Record<string, string>;

  constructor(status: number, message: string, fieldErrors: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
  }
}

interface ValidationItem {
  loc?: unknown;
  msg?: unknown;
}

function fieldName(loc: unknown): string | null {
  if (!Array.isArray(loc) || loc.length === 0) return null;
  const parts = loc.filter((p) => p !== "body" && p !== "query" && p !== "path");
  const last = parts[parts.length - 1];
  return typeof last === "string" ? last : last === undefined ? null : String(last);
}

function cleanMessage(msg: string): string {
  // pydantic prefixes custom errors with "Value error, "
  return msg.replace(/^Value error, /, "");
}

const STATUS_WORDS: Record<number, string> = {
  401: "Please log in to continue.",
  403: "You are not allowed to do this.",
  404: "Not found.",
  429: "Too many attempts. Please wait and try again.",
  500: "Something went wrong on the server. Please try again.",
  502: "The server is unavailable. Please try again later.",
  503: "The service is unavailable. Please try again later.",
};

/** Builds an ApiError from a status and a parsed body (`{detail: str}` or `{detail: [{loc, msg}]}`). */
export function apiErrorFrom(status: number, body: unknown, retryAfter?: string | null): ApiError {
  const detail = body && typeof body === "object" ? (body as { detail?: unknown }).detail : undefined;
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    const general: string[] = [];
    for (const item of detail as ValidationItem[]) {
      const msg = typeof item?.msg === "string" ? cleanMessage(item.msg) : "Invalid value";
      const name = fieldName(item?.loc);
      if (name && !(name in fields)) fields[name] = msg;
      else if (!name) general.push(msg);
    }
    const summary =
      general.join(" ") ||
      Object.entries(fields)
        .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`)
        .join("; ") ||
      "Some fields are not valid.";
    return new ApiError(status, summary, fields);
  }
  let message = typeof detail === "string" && detail ? detail : (STATUS_WORDS[status] ?? `Request failed (HTTP ${status}).`);
  if (status === 429 && retryAfter) message += ` Try again in ${retryAfter} s.`;
  return new ApiError(status, message);
}

/** Turns anything thrown by a call into a sentence for the page. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return "Could not reach the server. Check your connection and try again.";
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}

export function fieldErrorsOf(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.fieldErrors : {};
}
