/** What the provider sync needs to reach WorkOS: the API key and the base URL. */
import type { EnvVars } from "../env";
import { oncePerEnv } from "./once-per-env";
import { checkUrl, textVar } from "./read";
import { environmentOf } from "./router";

export const DEFAULT_WORKOS_API_URL = "https://api.workos.com";

export interface WorkosConfig {
  /** A WorkOS secret key (sk_…), sent as a Bearer token. */
  apiKey: string;
  /** https (http only for loopback in development), no query or fragment. */
  apiUrl: URL;
}

export type WorkosConfigResult =
  { ok: true; config: WorkosConfig } | { ok: false; variable: "WORKOS_API_KEY" | "WORKOS_API_URL"; reason: string };

export function parseWorkosConfig(env: EnvVars): WorkosConfigResult {
  const apiKey = textVar(env, "WORKOS_API_KEY");
  if (apiKey === undefined) {
    return { ok: false, variable: "WORKOS_API_KEY", reason: "is not set (a WorkOS secret key, sk_…)" };
  }
  const checked = checkUrl(textVar(env, "WORKOS_API_URL") ?? DEFAULT_WORKOS_API_URL, environmentOf(env));
  if (!checked.ok) return { ok: false, variable: "WORKOS_API_URL", reason: checked.reason };
  if (checked.url.search !== "" || checked.url.hash !== "") {
    return { ok: false, variable: "WORKOS_API_URL", reason: "must be a base URL without query or fragment" };
  }
  return { ok: true, config: { apiKey, apiUrl: checked.url } };
}

/** Parsed once per env object; the sync builds a fresh client (with its own wait budget) per run. */
export const workosConfigFor: (env: EnvVars) => WorkosConfigResult = oncePerEnv(parseWorkosConfig);
