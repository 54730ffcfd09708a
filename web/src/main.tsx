import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { QueryClientProvider } from "@tanstack/react-query";
import { loadConfig } from "./config";
import { Session } from "./api/session";
import { createApi } from "./api/client";
import { ServicesProvider } from "./context";
import { createQueryClient } from "./queryClient";
import { AppRoutes } from "./App";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then((config) => {
    const session = new Session(config.apiUrl);
    const api = createApi(config.apiUrl, session);
    const queryClient = createQueryClient();
    // Signing out forgets every cached answer that belonged to the user.
    let lastUser = session.getState().claims?.sub ?? null;
    session.subscribe(() => {
      const user = session.getState().claims?.sub ?? null;
      if (user !== lastUser) {
        lastUser = user;
        queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== "catalogue" && q.queryKey[0] !== "categories" });
      }
    });
    void session.start();
    root.render(
      <StrictMode>
        <ServicesProvider api={api} session={session}>
          <QueryClientProvider client={queryClient}>
            <BrowserRouter>
              <AppRoutes />
            </BrowserRouter>
          </QueryClientProvider>
        </ServicesProvider>
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    root.render(
      <main className="fatal">
        <h1>EduPlatform is unavailable</h1>
        <p role="alert">{error instanceof Error ? error.message : String(error)}</p>
      </main>,
    );
  });
