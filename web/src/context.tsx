import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { unwrap, type Api } from "./api/client";
import type { Session, SessionState } from "./api/session";

interface AppServices {
  api: Api;
  session: Session;
}

const ServicesContext = createContext<AppServices | null>(null);

export function ServicesProvider({ api, session, children }: AppServices & { children: ReactNode }) {
  return <ServicesContext.Provider value={{ api, session }}>{children}</ServicesContext.Provider>;
}

function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("ServicesProvider missing");
  return services;
}

export function useApi(): Api {
  return useServices().api;
}

export function useSessionManager(): Session {
  return useServices().session;
}

export function useSession(): SessionState {
  const session = useServices().session;
  return useSyncExternalStore(session.subscribe, session.getState, session.getState);
}

/** GET /me for the signed-in user (name and email), cached. */
export function useMe() {
  const api = useApi();
  const { status, claims } = useSession();
  return useQuery({
    queryKey: ["me", claims?.sub],
    enabled: status === "signedIn",
    staleTime: 60_000,
    queryFn: () => unwrap(api.GET("/me")),
  });
}
