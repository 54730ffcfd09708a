/**
 * The signed-in session: the access token in memory only, the refresh token in localStorage
 * (see README, "Tokens"). Renewal is single-flight: concurrent 401s and the renewal timer share
 * one POST /refresh, because refresh tokens rotate and sending a spent one again ends the family.
 */

export const REFRESH_TOKEN_KEY = "eduplatform.refreshToken";
const LOCK_NAME = "eduplatform-refresh";

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  token_type?: string;
}

export type Role = "student" | "teacher" | "admin";

export interface Claims {
  sub: string;
  role: Role;
  is_verified: boolean;
  email_verified: boolean;
  exp: number;
}

export type SessionStatus = "restoring" | "signedIn" | "signedOut";

export interface SessionState {
  status: SessionStatus;
  claims: Claims | null;
  /** Why the session ended, when it ended by itself (failed refresh, session ended). */
  notice: string | null;
}

export interface SessionOptions {
  storage?: Storage;
  /** Called at each request, so tests can stub globalThis.fetch. */
  fetch?: (input: Request) => Promise<Response>;
  now?: () => number;
  /** Renew this many seconds before expiry (never earlier than half the lifetime). */
  renewMarginSeconds?: number;
}

export const SESSION_ENDED_NOTICE = "Your session has ended. Please log in again.";

export function decodeClaims(token: string): Claims | null {
  try {
    const part = token.split(".")[1];
    if (!part) return null;
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const c = JSON.parse(json) as Partial<Claims>;
    if (typeof c.sub !== "string" || (c.role !== "student" && c.role !== "teacher" && c.role !== "admin")) return null;
    return {
      sub: c.sub,
      role: c.role,
      is_verified: c.is_verified === true,
      email_verified: c.email_verified === true,
      exp: typeof c.exp === "number" ? c.exp : 0,
    };
  } catch {
    return null;
  }
}

export class Session {
  private readonly apiUrl: string;
  private readonly storage: Storage | null;
  private readonly doFetch: (input: Request) => Promise<Response>;
  private readonly now: () => number;
  private readonly renewMargin: number;
  private accessToken: string | null = null;
  private expiresAt = 0;
  private inflight: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<() => void>();
  private state: SessionState;
  private readyPromise: Promise<void> = Promise.resolve();

  constructor(apiUrl: string, options: SessionOptions = {}) {
    this.apiUrl = apiUrl.replace(/\/+$/, "");
    this.storage = options.storage ?? (typeof localStorage === "undefined" ? null : localStorage);
    this.doFetch = options.fetch ?? ((input) => globalThis.fetch(input));
    this.now = options.now ?? (() => Date.now());
    this.renewMargin = options.renewMarginSeconds ?? 60;
    this.state = { status: this.storedRefreshToken() ? "restoring" : "signedOut", claims: null, notice: null };
    if (typeof window !== "undefined") window.addEventListener("storage", this.onStorage);
  }

  // ---- state for React (useSyncExternalStore) ----
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): SessionState => this.state;

  private setState(next: Partial<SessionState>): void {
    this.state = { ...this.state, ...next };
    for (const l of this.listeners) l();
  }

  getAccessToken(): string | null {
    return this.accessToken;
  }

  private storedRefreshToken(): string | null {
    try {
      return this.storage?.getItem(REFRESH_TOKEN_KEY) ?? null;
    } catch {
      return null;
    }
  }

  /** On app start: a stored refresh token restores the session. */
  start(): Promise<void> {
    if (this.storedRefreshToken()) {
      this.readyPromise = this.refresh().then(() => undefined);
    } else {
      this.setState({ status: "signedOut" });
    }
    return this.readyPromise;
  }

  /** Resolves once a restore in progress has finished. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Takes the tokens of /login, /register or /refresh. */
  accept(tokens: TokenResponse): void {
    this.accessToken = tokens.access_token;
    this.expiresAt = this.now() + tokens.expires_in * 1000;
    try {
      this.storage?.setItem(REFRESH_TOKEN_KEY, tokens.refresh_token);
    } catch {
      /* storage full or disabled: the session lasts as long as the page */
    }
    this.schedule(tokens.expires_in);
    this.setState({ status: "signedIn", claims: decodeClaims(tokens.access_token), notice: null });
  }

  private schedule(expiresIn: number): void {
    if (this.timer) clearTimeout(this.timer);
    const seconds = Math.max(expiresIn / 2, expiresIn - this.renewMargin, 1);
    this.timer = setTimeout(() => {
      void this.refresh();
    }, seconds * 1000);
  }

  /** Single-flight POST /refresh. Resolves true when a new access token is held. */
  refresh(): Promise<boolean> {
    if (!this.inflight) {
      this.inflight = this.withLock(() => this.doRefresh()).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private withLock(fn: () => Promise<boolean>): Promise<boolean> {
    // Across tabs too: another tab may rotate the same stored token; the lock makes them take turns,
    // and each reads the token the previous one stored.
    const locks = typeof navigator !== "undefined" ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
    if (locks?.request) return locks.request(LOCK_NAME, fn) as unknown as Promise<boolean>;
    return fn();
  }

  private async doRefresh(): Promise<boolean> {
    const token = this.storedRefreshToken();
    if (!token) {
      this.signOutLocal(this.state.status === "signedIn" ? SESSION_ENDED_NOTICE : null);
      return false;
    }
    let response: Response;
    try {
      response = await this.doFetch(
        new Request(`${this.apiUrl}/refresh`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: token }),
        }),
      );
    } catch {
      // Network failure: the token was perhaps not spent; keep it and try again later.
      if (this.state.status === "restoring") this.setState({ status: this.accessToken ? "signedIn" : "signedOut" });
      return false;
    }
    if (response.ok) {
      this.accept((await response.json()) as TokenResponse);
      return true;
    }
    if (response.status === 429 || response.status >= 500) {
      if (this.state.status === "restoring") this.setState({ status: "signedOut" });
      return false;
    }
    // 401 (unknown, expired, revoked, spent) or 422: the session is over.
    this.signOutLocal(SESSION_ENDED_NOTICE);
    return false;
  }

  /** Forgets the tokens here, without calling the API. */
  signOutLocal(notice: string | null = null): void {
    this.accessToken = null;
    this.expiresAt = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.storage?.removeItem(REFRESH_TOKEN_KEY);
    } catch {
      /* ignore */
    }
    this.setState({ status: "signedOut", claims: null, notice });
  }

  clearNotice(): void {
    if (this.state.notice) this.setState({ notice: null });
  }

  /** POST /logout: revokes this login's refresh token family, then forgets the tokens. */
  async logout(): Promise<void> {
    await this.inflight?.catch(() => false);
    const token = this.storedRefreshToken();
    try {
      if (token) {
        const response = await this.doFetch(
          new Request(`${this.apiUrl}/logout`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ refresh_token: token }),
          }),
        );
        if (!response.ok && response.status !== 401) {
          throw new Error(`Logging out failed (HTTP ${response.status}). Please try again.`);
        }
      }
    } finally {
      this.signOutLocal();
    }
  }

  private onStorage = (event: StorageEvent): void => {
    if (event.key === REFRESH_TOKEN_KEY && event.newValue === null && this.state.status === "signedIn") {
      this.signOutLocal("You logged out in another tab.");
    }
  };

  private withAuth(request: Request, token: string | null): Request {
    if (!token) return request;
    const authed = new Request(request);
    authed.headers.set("Authorization", `Bearer ${token}`);
    return authed;
  }

  /**
   * The fetch the API client uses: adds the access token, renews it shortly before expiry, and on a
   * 401 refreshes once (shared with any other request) and retries once. A failed refresh, or a
   * 401 again after it, signs out.
   */
  fetch = async (request: Request): Promise<Response> => {
    if (this.state.status === "restoring") await this.readyPromise;
    if (this.accessToken && this.expiresAt - this.now() < 5000) await this.refresh();
    const token = this.accessToken;
    const retry = token ? request.clone() : null;
    const first = await this.doFetch(this.withAuth(request, token));
    if (first.status !== 401 || !token || !retry) return first;
    const renewed = this.accessToken !== token ? this.accessToken !== null : await this.refresh();
    if (!renewed) return first;
    const second = await this.doFetch(this.withAuth(retry, this.accessToken));
    if (second.status === 401) this.signOutLocal(SESSION_ENDED_NOTICE);
    return second;
  };
}
