/** Builds the Workers with esbuild, as wrangler does: ESM, workerd conditions, cloudflare:* external. */
import { build } from "esbuild";
import { buildDashboard } from "../scripts/build-dashboard";

export async function bundle(
  entry: string,
  outfile: string,
  platform: "browser" | "node",
  define: Record<string, string> = {},
  sourcemap = false,
  /** Packages left to Node's resolution (the load thread's autocannon, a CommonJS package). */
  external: string[] = [],
): Promise<void> {
  // wrangler's [build] step: the router imports the dashboard's bundled client.
  if (platform === "browser") await buildDashboard();
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform,
    target: platform === "node" ? "node20" : "es2022",
    conditions: platform === "node" ? [] : ["workerd", "worker", "browser"],
    mainFields: platform === "node" ? ["module", "main"] : ["browser", "module", "main"],
    external: platform === "node" ? external : ["cloudflare:*"],
    define,
    // wrangler.toml deploys minified; wrangler keeps names by default.
    minify: platform !== "node",
    keepNames: true,
    sourcemap: sourcemap ? "external" : false,
    logLevel: "warning",
  });
}
