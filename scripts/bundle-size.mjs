// The two deploy bundles `npm run build:check` dry-ran (`wrangler deploy --dry-run --outdir
// --metafile`, router then admin): prints their sizes, and exits non-zero when the router's
// upload exceeds its budget or its bundle holds code that belongs to the admin Worker (the
// management API, OpenAPI, CSV import, the dashboard, the provider sync). The router sits in
// front of every sign-in request: docs/design.md, "Topology"; issue 11 ("bundle ≤ 100 KiB gzip").
//
//   node scripts/bundle-size.mjs [routerDir] [adminDir]
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

/** The router's upload budget, gzip (what Cloudflare measures a Worker's size by). */
export const ROUTER_GZIP_BUDGET = 100 * 1024;

/**
 * Modules only the admin Worker may contain (esbuild metafile input paths). The router keeps
 * src/admin/auth.ts (to recognise and strip an admin credential) and src/admin/problem.ts.
 */
export const ADMIN_ONLY = [
  /(^|\/)node_modules\/hono\//,
  /(^|\/)node_modules\/@hono\//,
  /(^|\/)node_modules\/@asteasolutions\/zod-to-openapi\//,
  /(^|\/)node_modules\/openapi3-ts\//,
  /(^|\/)node_modules\/csv-parse\//,
  /(^|\/)node_modules\/uplot\//,
  /^src\/dashboard\//,
  /^src\/admin\/(?!auth\.ts$|problem\.ts$)/,
  /^src\/sync\//,
  /^src\/writer\/(scheduled-sync|provider-sync)\.ts$/,
];

/** Input paths of a metafile that only the admin Worker may contain. */
export function adminOnlyInputs(metafile) {
  const inputs = new Set();
  for (const output of Object.values(metafile.outputs))
    for (const input of Object.keys(output.inputs)) inputs.add(input);
  return [...inputs].filter((input) => ADMIN_ONLY.some((re) => re.test(input))).sort();
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/**
 * The one script wrangler wrote into `dir` (named after the entry: index.js, worker.js) and
 * its size in bytes, raw and gzip -9 (how Cloudflare sizes an upload). Throws unless `dir`
 * holds exactly one .js file. bench/cold-start.ts measures with this too.
 */
export function uploadSize(dir) {
  const scripts = readdirSync(dir).filter((name) => name.endsWith(".js"));
  if (scripts.length !== 1) throw new Error(`expected one .js file in ${dir}, found: ${scripts.join(", ") || "none"}`);
  const file = path.join(dir, scripts[0]);
  const bytes = readFileSync(file);
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const routerDir = process.argv[2] ?? ".wrangler/deploy-dry-run";
  const adminDir = process.argv[3] ?? ".wrangler/deploy-dry-run-admin";
  const router = uploadSize(routerDir);
  const admin = uploadSize(adminDir);
  console.log(
    `router upload ${router.file}: ${kib(router.raw)} raw, ${kib(router.gzip)} gzip (budget ${kib(ROUTER_GZIP_BUDGET)})`,
  );
  console.log(`admin upload  ${admin.file}: ${kib(admin.raw)} raw, ${kib(admin.gzip)} gzip`);
  let failed = false;
  if (router.gzip > ROUTER_GZIP_BUDGET) {
    console.error(`The router's upload is ${kib(router.gzip)} gzip, over its ${kib(ROUTER_GZIP_BUDGET)} budget.`);
    failed = true;
  }
  const leaked = adminOnlyInputs(JSON.parse(readFileSync(path.join(routerDir, "bundle-meta.json"), "utf8")));
  if (leaked.length > 0) {
    console.error(
      `The router's bundle holds admin-only code (it belongs in wrangler.admin.toml's Worker):\n  ${leaked.join("\n  ")}`,
    );
    failed = true;
  }
  if (failed) process.exit(1);
}
