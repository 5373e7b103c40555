/**
 * The files the README tells an operator to use, imported through the real API of
 * the Worker configured as wrangler.toml configures it:
 *   - routes.production.example.json into [env.production] (ENVIRONMENT=production,
 *     its ALLOWED_TARGET_HOSTS): the table the deploy checklist starts from;
 *   - examples/proxy_routes.csv into the local run (the top-level [vars], as
 *     `npm run dev` starts it), after the demo routes.json.
 * Both go through `npm run routes -- push` as the README writes it.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { nodeIo } from "../cli/node-io";
import { runCli } from "../cli/run";
import { ROOT, startWorker, type RunningWorker } from "./support/worker";

const TOKEN = randomBytes(32).toString("base64url");
let worker: RunningWorker | undefined;

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

/** `npm run routes -- …` from the repository root, against `worker`. */
async function routes(running: RunningWorker, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    nodeIo(
      ROOT,
      (t) => out.push(t),
      (t) => err.push(t),
      { ROUTER_URL: running.origin, ROUTER_TOKEN: TOKEN },
    ),
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("files shipped for operators", () => {
  it("routes.production.example.json passes production validation ([env.production] of wrangler.toml)", async () => {
    worker = await startWorker({ ADMIN_TOKEN: TOKEN }, { wranglerVars: true, environment: "production" });
    const status = await routes(worker, ["settings", "--json"]);
    expect(status.code, status.err).toBe(0);

    const dry = await routes(worker, ["push", "routes.production.example.json", "--dry-run", "--replace"]);
    expect(dry.err).toBe("");
    expect(dry.out).toMatch(/^dry run \(nothing written\): routes\.json, mode replace\n {2}added 4, changed 0/);
    const pushed = await routes(worker, ["push", "routes.production.example.json", "--replace"]);
    expect(pushed.code, pushed.err).toBe(0);
    // It starts in shadow mode: every callback still goes to Auth0 while the decisions are logged.
    expect((await routes(worker, ["status"])).out).toContain("mode:         shadow");
    const acme = await routes(worker, ["evaluate", "--connection", "acme-saml"]);
    // Its IdP entity ID lets the router identify it even from an encrypted assertion.
    expect(acme.out.split("\n")[0]).toMatch(/^acme-saml: routability routable — .*an encrypted one by its Issuer$/);
    expect(acme.out.split("\n")).toContain(
      "worst usual case → auth0 (migrated; shadow mode: routing would send it to https://sso.example.com/sso/client_01EXAMPLECLIENTID/auth0/callback)",
    );

    // The demo table is refused there, naming the field: the check above can fail.
    const demo = await routes(worker, ["push", "routes.json", "--dry-run"]);
    expect(demo.code).toBe(1);
    expect(demo.err).toContain("settings.defaultTarget: target must be https");
  });

  it("examples/proxy_routes.csv imports into the local run (wrangler.toml's top-level [vars], as npm run dev)", async () => {
    worker = await startWorker({ ADMIN_TOKEN: TOKEN }, { wranglerVars: true });
    expect((await routes(worker, ["push", "routes.json", "--replace"])).code).toBe(0);

    const dry = await routes(worker, ["push", path.join("examples", "proxy_routes.csv"), "--dry-run"]);
    expect(dry.err).toBe("");
    expect(dry.out.split("\n").slice(0, 2)).toEqual([
      "dry run (nothing written): proxy_routes.csv, mode merge",
      "  added 1, changed 3, removed 0, unchanged 0",
    ]);
    expect(dry.out).toMatch(/warning: line 5 \(wayne-saml\): cutoverState "manual"/);
    const done = await routes(worker, ["push", "examples/proxy_routes.csv"]);
    expect(done.code, done.err).toBe(0);
    const acme = await routes(worker, ["evaluate", "--connection", "acme-saml"]);
    expect(acme.out.split("\n")).toContain(
      "worst usual case → new (migrated) http://localhost:8789/sso/client_demo/auth0/callback",
    );
  });
});
