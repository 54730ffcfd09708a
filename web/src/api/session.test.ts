import { describe, expect, it, vi } from "vitest";
import { REFRESH_TOKEN_KEY, Session, SESSION_ENDED_NOTICE, decodeClaims } from "./session";
import { createApi, unwrap } from "./client";
import { ApiError } from "./errors";
import { API, fakeApi, fakeJwt, json, tokens } from "../test/helpers";

/** A fake identity service with rotating refresh tokens: reuse of a spent one revokes the family. */
function rotatingIdentity(opts: { delayMs?: number } = {}) {
  let generation = 0;
  const spent = new Set<string>();
  let familyRevoked = false;
  let current = "rt-0";
  let access = fakeJwt({ sub: "u1", role: "student", gen: 0 });
  const server = fakeApi({
    "POST /refresh": async (call) => {
      const sent = (call.body as { refresh_token: string }).refresh_token;
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (spent.has(sent)) {
        familyRevoked = true;
        return json(401, { detail: "Refresh token reused; session revoked" });
      }
      if (familyRevoked || sent !== current) return json(401, { detail: "Invalid refresh token" });
      spent.add(sent);
      generation += 1;
      current = `rt-${generation}`;
      access = fakeJwt({ sub: "u1", role: "student", gen: generation });
      return json(200, { access_token: access, expires_in: 900, refresh_token: current, token_type: "bearer" });
    },
    "GET /me": (call) =>
      call.headers.get("Authorization") === `Bearer ${access}`
        ? json(200, { id: "u1", email: "a@b.c", name: "Ada", role: "student", is_verified: true, email_verified: true, created_at: "x" })
        : json(401, { detail: "Token has expired" }),
  });
  return {
    server,
    get current() {
      return current;
    },
    get familyRevoked() {
      return familyRevoked;
    },
    refreshCalls: () => server.calls.filter((c) => c.path === "/refresh"),
  };
}

describe("Session", () => {
  it("decodes the claims the app needs from the access token", () => {
    expect(decodeClaims(fakeJwt({ sub: "u9", role: "teacher", is_verified: false }))).toMatchObject({
      sub: "u9",
      role: "teacher",
      is_verified: false,
    });
    expect(decodeClaims("not-a-jwt")).toBeNull();
  });

  it("keeps the access token in memory and only the refresh token in localStorage", () => {
    const session = new Session(API, { fetch: fakeApi({}).fetch });
    session.accept(tokens("u1", "student", "rt-a"));
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe("rt-a");
    expect(JSON.stringify({ ...localStorage })).not.toContain(session.getAccessToken()!);
    expect(session.getState().status).toBe("signedIn");
  });

  it("restores the session on start from a stored refresh token", async () => {
    const identity = rotatingIdentity();
    localStorage.setItem(REFRESH_TOKEN_KEY, "rt-0");
    const session = new Session(API, { fetch: identity.server.fetch });
    expect(session.getState().status).toBe("restoring");
    await session.start();
    expect(session.getState().status).toBe("signedIn");
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe("rt-1");
  });

  it("shares one refresh between concurrent 401s and retries each request once with the new token", async () => {
    const identity = rotatingIdentity({ delayMs: 20 });
    const session = new Session(API, { fetch: identity.server.fetch });
    // an access token the server no longer accepts, and the current refresh token
    session.accept({ access_token: fakeJwt({ sub: "u1", role: "student", gen: "old" }), expires_in: 900, refresh_token: "rt-0" });
    const api = createApi(API, session);

    const results = await Promise.all([1, 2, 3, 4].map(() => unwrap(api.GET("/me"))));

    expect(results.map((r) => r.name)).toEqual(["Ada", "Ada", "Ada", "Ada"]);
    expect(identity.refreshCalls()).toHaveLength(1);
    expect(identity.familyRevoked).toBe(false);
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe("rt-1");
  });

  it("never sends a rotated refresh token twice across successive renewals", async () => {
    const identity = rotatingIdentity();
    const session = new Session(API, { fetch: identity.server.fetch });
    session.accept({ access_token: "x.y.z", expires_in: 900, refresh_token: "rt-0" });
    expect(await session.refresh()).toBe(true);
    expect(await session.refresh()).toBe(true);
    expect(await session.refresh()).toBe(true);
    const sent = identity.refreshCalls().map((c) => (c.body as { refresh_token: string }).refresh_token);
    expect(sent).toEqual(["rt-0", "rt-1", "rt-2"]);
    expect(new Set(sent).size).toBe(sent.length);
    expect(identity.familyRevoked).toBe(false);
  });

  it("renews shortly before expiry without waiting for a 401", async () => {
    vi.useFakeTimers();
    try {
      const identity = rotatingIdentity();
      const session = new Session(API, { fetch: identity.server.fetch, renewMarginSeconds: 60 });
      session.accept({ access_token: fakeJwt({ sub: "u1", role: "student" }), expires_in: 900, refresh_token: "rt-0" });
      await vi.advanceTimersByTimeAsync(830_000);
      expect(identity.refreshCalls()).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(15_000);
      expect(identity.refreshCalls()).toHaveLength(1);
      expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBe("rt-1");
    } finally {
      vi.useRealTimers();
    }
  });

  it("signs out cleanly when the refresh fails", async () => {
    const server = fakeApi({
      "POST /refresh": () => json(401, { detail: "Invalid refresh token" }),
      "GET /me": () => json(401, { detail: "Session ended" }),
    });
    const session = new Session(API, { fetch: server.fetch });
    session.accept(tokens("u1", "student", "rt-revoked"));
    const api = createApi(API, session);

    await expect(unwrap(api.GET("/me"))).rejects.toMatchObject({ status: 401, message: "Session ended" });

    expect(session.getState()).toMatchObject({ status: "signedOut", claims: null, notice: SESSION_ENDED_NOTICE });
    expect(session.getAccessToken()).toBeNull();
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    expect(server.calls.filter((c) => c.path === "/refresh")).toHaveLength(1);
  });

  it("signs out when the request is refused again after a successful refresh", async () => {
    const server = fakeApi({
      "POST /refresh": () => json(200, tokens("u1", "student", "rt-2")),
      "GET /me": () => json(401, { detail: "Session ended" }),
    });
    const session = new Session(API, { fetch: server.fetch });
    session.accept(tokens("u1", "student", "rt-1"));
    const api = createApi(API, session);
    await expect(unwrap(api.GET("/me"))).rejects.toBeInstanceOf(ApiError);
    expect(session.getState().status).toBe("signedOut");
    expect(server.calls.filter((c) => c.path === "/me")).toHaveLength(2);
  });

  it("does not try to refresh for an anonymous request", async () => {
    const server = fakeApi({ "GET /me": () => json(401, { detail: "Not authenticated" }) });
    const session = new Session(API, { fetch: server.fetch });
    await session.start();
    const api = createApi(API, session);
    await expect(unwrap(api.GET("/me"))).rejects.toMatchObject({ status: 401 });
    expect(server.calls.map((c) => c.path)).toEqual(["/me"]);
    expect(server.calls[0]!.headers.get("Authorization")).toBeNull();
  });

  it("logs out by revoking the refresh token, then forgets it", async () => {
    const server = fakeApi({ "POST /logout": () => new Response(null, { status: 204 }) });
    const session = new Session(API, { fetch: server.fetch });
    session.accept(tokens("u1", "student", "rt-7"));
    await session.logout();
    expect(server.calls[0]).toMatchObject({ method: "POST", path: "/logout", body: { refresh_token: "rt-7" } });
    expect(localStorage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    expect(session.getState().status).toBe("signedOut");
  });
});
