/**
 * The routes CLI, driven against the real Worker and writer (inside workerd):
 * the same code `npm run routes` runs in Node, with fetch pointed at the Worker.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../cli/commands";
import seedFile from "../routes.json";
import proxyRoutesCsv from "./fixtures/proxy_routes.csv?raw";
import { ADMIN_TOKEN, adminEnv, resetTable } from "./support/admin";
import { call, HOST } from "./support/worker";

beforeEach(() => resetTable());

const FILES: Record<string, string> = {
  "routes.json": JSON.stringify({
    ...seedFile,
    settings: { ...seedFile.settings, defaultTarget: "https://sso.example.com/cb" },
  }),
  "sso/proxy_routes.csv": proxyRoutesCsv,
};

async function cli(
  argv: string[],
  token: string | null = ADMIN_TOKEN,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    fetch: (input, init) => call(new Request(input, init), adminEnv()),
    readFile: async (path) => {
      const text = FILES[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { ROUTER_URL: HOST, ROUTER_TOKEN: token ?? undefined },
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("npm run routes", () => {
  it("walks an operator through a migration: import, migrate one, roll out 10 %, kill switch, audit", async () => {
    const dry = await cli(["push", "sso/proxy_routes.csv", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("dry run (nothing written): proxy_routes.csv");
    expect(dry.out).toContain("added 4, changed 0, removed 0");
    expect(dry.out).toMatch(/warning: line 4 \(initech-oidc\): cutoverState "manual"/);

    expect((await cli(["push", "sso/proxy_routes.csv"])).out).toContain("imported: proxy_routes.csv");
    const list = await cli(["list"]);
    expect(list.out).toMatch(/^CONNECTION\s+STATE\s+ORGANIZATION\s+TARGET\s+VERSION/);
    expect(list.out).toMatch(/globex-saml\s+legacy\s+org_globex/);
    expect(list.out).toContain("4 route(s)");

    expect((await cli(["set", "globex-saml", "migrated"])).out).toBe("globex-saml: migrated (version 2)");
    expect((await cli(["set", "initech-oidc", "rollout"])).code).toBe(0);
    expect((await cli(["rollout", "--percentage", "10"])).out).toBe("rollout: 10% include [] exclude []");
    expect((await cli(["rollout", "--include", "org_acme"])).out).toBe("rollout: 10% include [org_acme] exclude []");

    const on = await cli(["kill-switch", "on"]);
    expect(on.out).toContain("kill switch ON");
    const callback = await call(new Request(`${HOST}/login/callback?connection=acme-saml`), adminEnv());
    expect(callback.status).toBe(200);
    await callback.body?.cancel();
    expect((await cli(["kill-switch", "off"])).out).toContain("mode: route");

    const audit = await cli(["audit"]);
    expect(audit.out.split("\n")[0]).toMatch(/^WHEN\s+ACTOR\s+ACTION\s+SUBJECT/);
    for (const action of ["import", "route.update", "rollout.update", "settings.update"])
      expect(audit.out).toContain(action);
    expect(audit.out).toContain("token:ci");
  });

  it("pulls routes.json that pushes back with no changes", async () => {
    await cli(["push", "routes.json", "--replace"]);
    const pulled = await cli(["pull"]);
    FILES["pulled.json"] = pulled.out;
    const again = await cli(["push", "pulled.json", "--dry-run", "--replace"]);
    expect(again.out).toContain(`added 0, changed 0, removed 0, unchanged ${seedFile.routes.length}`);
  });

  it("prints JSON with --json for scripts", async () => {
    await cli(["push", "routes.json"]);
    const res = await cli(["evaluate", "--organization", "org_acme", "--json"]);
    expect(JSON.parse(res.out)).toMatchObject({ organization: "org_acme", destination: "new", reason: "migrated" });
    const human = await cli(["evaluate", "--connection", "globex-saml"]);
    expect(human.out).toBe("globex-saml → auth0 (legacy)");
  });

  it("exits 1 with the server's problem detail, field by field", async () => {
    const res = await cli(["set", "acme-saml", "sideways", "--create"]);
    expect(res.code).toBe(1);
    expect(res.err).toContain("error: 422 Invalid fields");
    expect(res.err).toContain("  state: ");
    const missing = await cli(["get", "nobody"]);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.err).toContain('error: 404 No such route: connection "nobody" is not in the route table');
  });

  it("exits 1 and says how to authenticate when no token is set", async () => {
    const res = await cli(["list"], null);
    expect(res.code).toBe(1);
    expect(res.err).toContain("error: 401 Unauthorized");
    expect(res.err).toContain("set ROUTER_TOKEN");
  });

  it("exits 2 with usage on a wrong command or missing argument", async () => {
    expect((await cli(["frobnicate"])).code).toBe(2);
    const res = await cli(["set", "acme-saml"]);
    expect(res.code).toBe(2);
    expect(res.err).toContain("usage: npm run routes");
    expect((await cli(["kill-switch", "maybe"])).code).toBe(2);
  });

  it("answers a stale --if-match with the server's 412", async () => {
    await cli(["set", "acme-saml", "legacy", "--create"]);
    await cli(["set", "acme-saml", "migrated"]);
    const res = await cli(["set", "acme-saml", "legacy", "--if-match", "1"]);
    expect(res.code).toBe(1);
    expect(res.err).toContain("error: 412 Version mismatch");
  });
});
