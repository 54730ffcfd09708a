import type { ReactElement } from "react";
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { QueryClientProvider } from "@tanstack/react-query";
import { Session, type TokenResponse } from "../api/session";
import { createApi } from "../api/client";
import { ServicesProvider } from "../context";
import { createQueryClient } from "../queryClient";

export const API = "http://api.test/api";

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export interface Call {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: Headers;
  body: unknown;
}

type Handler = (call: Call) => Response | Promise<Response>;

/** A fake API: routes "METHOD /path" (path may hold :params) to handlers, and records every call. */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(" ") as [string, string];
    const re = new RegExp(`^${pattern.replace(/:[a-z_]+/g, "[^/]+")}$`);
    return { method, re, handler };
  });
  const fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/api/, "");
    const text = request.method === "GET" ? "" : await request.text();
    const call: Call = {
      method: request.method,
      path,
      search: url.searchParams,
      headers: request.headers,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    calls.push(call);
    const route = compiled.find((r) => r.method === request.method && r.re.test(path));
    if (!route) return json(404, { detail: `No fake for ${request.method} ${path}` });
    return route.handler(call);
  };
  return { fetch, calls };
}

/** An unsigned JWT with the claims the app reads. */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ exp: 9999999999, is_verified: true, email_verified: true, ...claims })}.sig`;
}

export function tokens(sub: string, role: string, refresh: string, extra: Record<string, unknown> = {}): TokenResponse {
  return { access_token: fakeJwt({ sub, role, ...extra }), expires_in: 900, refresh_token: refresh, token_type: "bearer" };
}

export function renderPage(
  element: ReactElement,
  { path = "/", route = "/", fetch, signedIn }: { path?: string; route?: string; fetch: (r: Request) => Promise<Response>; signedIn?: TokenResponse },
) {
  const session = new Session(API, { fetch });
  if (signedIn) session.accept(signedIn);
  const api = createApi(API, session);
  const queryClient = createQueryClient();
  const utils = render(
    <ServicesProvider api={api} session={session}>
      <QueryClientProvider client={queryClient}>
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={element} />
            <Route path="*" element={<p>Navigated away</p>} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </ServicesProvider>,
  );
  return { ...utils, session, queryClient };
}
