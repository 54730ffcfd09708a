export interface AppConfig {
  apiUrl: string;
}

/** Reads /config.json, served beside index.html (uploaded by the deploy step, or by the dev server). */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AppConfig> {
  const response = await fetchImpl("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`Could not load /config.json (HTTP ${response.status})`);
  const body: unknown = await response.json();
  if (!body || typeof body !== "object" || typeof (body as { apiUrl?: unknown }).apiUrl !== "string") {
    throw new Error("/config.json has no apiUrl");
  }
  return { apiUrl: (body as { apiUrl: string }).apiUrl.replace(/\/+$/, "") };
}
