/**
 * The two configs as wrangler reads them (its own parser, `unstable_readConfig`, so
 * inheritance and defaults are wrangler's), for one environment: what scripts/deploy/checks.ts
 * checks. Quietly: wrangler's warnings about the top-level-only `[secrets]` and `services`
 * (on purpose: wrangler.toml, wrangler.admin.toml) would only be noise here.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import type { WorkerConfigView } from "./checks";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const CONFIG_FILES = { router: "wrangler.toml", admin: "wrangler.admin.toml" } as const;

/** One config file (relative to `root`) for `env` (undefined: the top level, local development). */
export function readConfigView(root: string, file: string, env: string | undefined): WorkerConfigView {
  const level = process.env["WRANGLER_LOG"];
  process.env["WRANGLER_LOG"] = "error";
  try {
    const config = unstable_readConfig({ config: path.join(root, file), env }, { hideWarnings: true });
    return { ...(config as unknown as WorkerConfigView), file };
  } finally {
    if (level === undefined) delete process.env["WRANGLER_LOG"];
    else process.env["WRANGLER_LOG"] = level;
  }
}

/** Both Workers' configs for `env`, from `root` (the repository, or a test's fixture directory). */
export function readPair(
  env: string | undefined,
  root: string = ROOT,
): { router: WorkerConfigView; admin: WorkerConfigView } {
  return {
    router: readConfigView(root, CONFIG_FILES.router, env),
    admin: readConfigView(root, CONFIG_FILES.admin, env),
  };
}
