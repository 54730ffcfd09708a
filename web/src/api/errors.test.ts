import { describe, expect, it } from "vitest";
import { apiErrorFrom, errorMessage } from "./errors";

describe("apiErrorFrom", () => {
  it("maps a FastAPI 422 list to messages by field", () => {
    const e = apiErrorFrom(422, {
      detail: [
        { loc: ["body", "email"], msg: "value is not a valid email address", type: "value_error" },
        { loc: ["body", "password"], msg: "Value error, String should have at least 8 characters", type: "value_error" },
        { loc: ["query", "price_max"], msg: "price_max is below price_min", type: "value_error" },
      ],
    });
    expect(e.status).toBe(422);
    expect(e.fieldErrors).toEqual({
      email: "value is not a valid email address",
      password: "String should have at least 8 characters",
      price_max: "price_max is below price_min",
    });
    expect(e.message).toContain("email: value is not a valid email address");
  });

  it("keeps the API's words for a plain detail", () => {
    expect(apiErrorFrom(409, { detail: "Email already registered" }).message).toBe("Email already registered");
    expect(apiErrorFrom(429, { detail: "Too many attempts" }, "30").message).toBe("Too many attempts Try again in 30 s.");
  });

  it("says something in words when the body is not the API's", () => {
    expect(apiErrorFrom(502, "Bad Gateway").message).toMatch(/unavailable/);
    expect(apiErrorFrom(418, null).message).toBe("Request failed (HTTP 418).");
    expect(errorMessage(new TypeError("Failed to fetch"))).toMatch(/Could not reach the server/);
  });
});
