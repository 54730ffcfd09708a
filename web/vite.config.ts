/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

const DEFAULT_API_URL = "http://localhost:4566/_aws/execute-api/eduplatform/api";

/**
 * Serves /config.json for `npm run dev` and `npm run preview`. In production the deploy step
 * uploads config.json beside index.html; nothing here is built into dist/.
 */
const apiUrl = () => process.env.EDUPLATFORM_API_URL ?? DEFAULT_API_URL;

/** The Content-Security-Policy the app is written for (no inline script or style). */
export function contentSecurityPolicy(api: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https:",
    "media-src 'self' https:",
    `connect-src 'self' ${new URL(api).origin}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function runtimeConfig(): Plugin {
  const body = () => JSON.stringify({ apiUrl: apiUrl() });
  const middleware = (req: { url?: string }, res: import("node:http").ServerResponse, next: () => void) => {
    if (req.url?.split("?")[0] !== "/config.json") return next();
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Cache-Control", "no-store");
    res.end(body());
  };
  return {
    name: "eduplatform-runtime-config",
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      // the built app under the policy the CDN applies: only the app itself and the API
      server.middlewares.use((_req, res, next) => {
        res.setHeader("Content-Security-Policy", contentSecurityPolicy(apiUrl()));
        next();
      });
      server.middlewares.use(middleware);
    },
  };
}

export default defineConfig({
  plugins: [react(), runtimeConfig()],
  server: { port: 5173, strictPort: true },
  build: { target: "es2022", sourcemap: false, modulePreload: { polyfill: false } },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
  },
});
