import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import proxyRoutesCsv from "./fixtures/proxy_routes.csv?raw";
import seedFile from "../routes.json";
import { matchKey, orgKey, routeKey } from "../src/table/kv-layout";
import { TableDb } from "../src/writer/table-db";
import { api, json, resetTable } from "./support/admin";

beforeEach(() => resetTable());

/** The shipped routes.json, with a default target the test allow-list accepts. */
const routesJson = { ...seedFile, settings: { ...seedFile.settings, defaultTarget: "https://sso.example.com/cb" } };

type ImportResult = {
  dryRun: boolean;
  mode: string;
  format: string;
  diff: {
    added: string[];
    changed: Array<{ connection: string; fields: string[] }>;
    removed: string[];
    unchanged: string[];
    settingsChanged: boolean;
  };
  warnings: string[];
};
type Problem = { status: number; detail: string; errors: Array<{ field: string; reason: string }> };
type Route = {
  connection: string;
  state: string;
  organization?: string;
  target?: string;
  match?: Record<string, string>;
  providerConnectionId?: string;
  note?: string;
};

const importCsv = (csv: string, query = "") =>
  api(`/import${query}`, { method: "POST", text: csv, contentType: "text/csv" });
const importJson = (body: unknown, query = "") => api(`/import${query}`, { method: "POST", body });

describe("importing WorkOS' proxy_routes.csv", () => {
  it("keeps the CSV fixture as exported: BOM and CRLF line ends", () => {
    expect(proxyRoutesCsv.charCodeAt(0)).toBe(0xfeff);
    expect(proxyRoutesCsv).toContain("\r\n");
  });

  it("dry-run returns the diff and warnings and writes nothing", async () => {
    const res = await importCsv(proxyRoutesCsv, "?dryRun=true");
    expect(res.status).toBe(200);
    const result = await json<ImportResult>(res);
    expect(result).toMatchObject({ dryRun: true, format: "proxy_routes.csv" });
    expect(result.diff.added.sort()).toEqual(["acme-saml", "globex-saml", "initech-oidc", "umbrella-saml"]);
    expect(result.warnings.join("\n")).toMatch(/line 4 \(initech-oidc\): cutoverState "manual" imported as legacy/);
    expect(result.warnings.join("\n")).toMatch(/line 5 \(umbrella-saml\): no workosAcsUrl/);
    expect((await api("/routes/acme-saml")).status).toBe(404);
    expect(await env.ROUTES.get(routeKey("acme-saml"))).toBeNull();
  });

  it("maps every column: quoted commas, escaped quotes, empty cells, cutoverState", async () => {
    expect((await importCsv(proxyRoutesCsv)).status).toBe(200);
    const acme = await json<Route>(await api("/routes/acme-saml"));
    expect(acme).toMatchObject({
      connection: "acme-saml",
      organization: "org_acme",
      protocol: "samlp",
      state: "migrated",
      target: "https://sso.example.com/sso/acme/callback",
      providerConnectionId: "conn_01HACME",
      note: "Cut over 2026-11-20, checked by IT",
    });
    expect(acme.match).toBeUndefined();
    const globex = await json<Route>(await api("/routes/globex-saml"));
    expect(globex).toMatchObject({ state: "legacy", match: { spEntityId: "https://auth.example.com/saml/globex" } });
    const initech = await json<Route>(await api("/routes/initech-oidc"));
    expect(initech).toMatchObject({
      state: "legacy",
      protocol: "oidc",
      note: 'Waiting on "Initech" IT, see ticket #42',
    });
    expect(initech.organization).toBeUndefined();
    expect(await env.ROUTES.get(matchKey("sp", "https://auth.example.com/saml/globex"))).toBe("globex-saml");
    expect(JSON.parse((await env.ROUTES.get(orgKey("org_acme"))) ?? "[]")).toEqual(["acme-saml"]);
  });

  it("applies nothing when one row is bad, and names the line and column", async () => {
    const bad = proxyRoutesCsv
      .replace("https://sso.example.com/sso/acme/callback", "https://evil.test/callback")
      .replace(",legacy,", ",sideways,");
    const res = await importCsv(bad);
    expect(res.status).toBe(422);
    const problem = await json<Problem>(res);
    expect(problem.errors).toContainEqual({
      field: "line 3.cutoverState",
      reason: 'must be legacy, workos or manual, got "sideways"',
    });
    const good = proxyRoutesCsv.replace("https://sso.example.com/sso/acme/callback", "https://evil.test/callback");
    const res2 = await importCsv(good);
    expect(res2.status).toBe(422);
    expect((await json<Problem>(res2)).errors).toContainEqual({
      field: "line 2.workosAcsUrl",
      reason: 'target host "evil.test" is not in ALLOWED_TARGET_HOSTS',
    });
    expect((await api("/routes?limit=10").then((r) => json<{ routes: unknown[] }>(r))).routes).toHaveLength(0);
  });

  it("names a missing column and an unreadable CSV", async () => {
    const noState = "externalId,notes\r\nacme-saml,x\r\n";
    expect((await json<Problem>(await importCsv(noState))).errors).toContainEqual({
      field: "(header).cutoverState",
      reason: "column is missing",
    });
    const ragged = proxyRoutesCsv + "extra,row\r\n";
    const res = await importCsv(ragged);
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors[0]).toMatchObject({
      field: "line 6",
      reason: expect.stringContaining("on line 6"),
    });
    expect((await json<Problem>(await importCsv(""))).errors[0]?.field).toBe("(csv)");
  });

  describe("errors name the first physical line of the record", () => {
    // A note over three lines (CRLF inside the quotes, as Excel writes it), then a bad row.
    const multiLine = proxyRoutesCsv.replace(
      '"Cut over 2026-11-20, checked by IT"',
      '"Cut over 2026-11-20,\r\nchecked by IT\r\n(ticket ""SSO-7"")"',
    );

    it("after a quoted multi-line note (CRLF)", async () => {
      const bad = multiLine.replace(",manual,", ",sideways,");
      const problem = await json<Problem>(await importCsv(bad));
      // initech-oidc is the third record; the note of the first pushed it from line 4 to line 6.
      expect(problem.errors).toContainEqual({
        field: "line 6.cutoverState",
        reason: 'must be legacy, workos or manual, got "sideways"',
      });
    });

    it("for a record that itself spans lines", async () => {
      const bad = multiLine.replace("https://sso.example.com/sso/acme/callback", "https://evil.test/callback");
      expect((await json<Problem>(await importCsv(bad))).errors).toContainEqual({
        field: "line 2.workosAcsUrl",
        reason: 'target host "evil.test" is not in ALLOWED_TARGET_HOSTS',
      });
    });

    it("in warnings, and in csv-parse's own errors (LF and lone-CR files too)", async () => {
      for (const eol of ["\r\n", "\n", "\r"]) {
        const text = multiLine.replace(/\r\n/g, eol);
        const result = await json<ImportResult>(await importCsv(text, "?dryRun=true"));
        expect(result.warnings.join("\n")).toMatch(/line 6 \(initech-oidc\): cutoverState "manual"/);
        const ragged = await json<Problem>(await importCsv(`${text}${eol}${eol}extra,row${eol}`));
        expect(ragged.errors[0]).toMatchObject({ field: "line 10", reason: expect.stringContaining("on line 10") });
      }
    });
  });

  it("refuses two rows for one connection", async () => {
    const lines = proxyRoutesCsv.split("\r\n");
    const dup = [...lines.slice(0, 2), lines[1], ...lines.slice(2)].join("\r\n");
    const res = await importCsv(dup);
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors).toContainEqual({
      field: "line 3.externalId",
      reason: "duplicate of routes.0",
    });
  });
});

describe("importing and exporting routes.json", () => {
  it("round-trips: export → import changes nothing", async () => {
    expect((await importJson(routesJson, "?mode=replace")).status).toBe(200);
    const exported = await json<{ settings: unknown; routes: unknown[] }>(await api("/export"));
    expect(exported.routes).toHaveLength(routesJson.routes.length);
    const again = await json<ImportResult>(await importJson(exported, "?dryRun=true&mode=replace"));
    expect(again.diff).toEqual({
      added: [],
      changed: [],
      removed: [],
      unchanged: routesJson.routes.map((r) => r.connection).sort(),
      settingsChanged: false,
    });
  });

  it("merge keeps routes missing from the file; replace removes them", async () => {
    await importJson(routesJson);
    const one = { routes: [{ connection: "acme-saml", state: "legacy" }] };
    const merged = await json<ImportResult>(await importJson(one, "?dryRun=true"));
    expect(merged.diff).toMatchObject({
      changed: [{ connection: "acme-saml", fields: expect.arrayContaining(["state"]) as unknown }],
      removed: [],
    });
    const replaced = await json<ImportResult>(await importJson(one, "?mode=replace"));
    expect(replaced.diff.removed).toHaveLength(routesJson.routes.length - 1);
    expect(await env.ROUTES.get(routeKey("globex-saml"))).toBeNull();
  });

  it("reports settings changes in the diff and applies them", async () => {
    const res = await json<ImportResult>(await importJson({ settings: { mode: "shadow" }, routes: [] }));
    expect(res.diff.settingsChanged).toBe(true);
    expect((await json<{ mode: string }>(await api("/settings"))).mode).toBe("shadow");
  });

  it("names the field of a bad row in a routes.json import and writes nothing", async () => {
    const res = await importJson({
      routes: [
        { connection: "ok-one", state: "legacy" },
        { connection: "bad_name", state: "legacy" },
      ],
    });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors[0]?.field).toBe("routes.1.connection");
    expect((await api("/routes/ok-one")).status).toBe(404);
  });

  it("refuses an import claiming a match value a kept route owns", async () => {
    await importJson({ routes: [{ connection: "a", state: "legacy", match: { idpEntityId: "https://idp" } }] });
    const res = await importJson({
      routes: [{ connection: "b", state: "legacy", match: { idpEntityId: "https://idp" } }],
    });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors[0]).toEqual({
      field: "routes.0.match.idpEntityId",
      reason: '"https://idp" is already matched by connection "a"',
    });
    // With replace, "a" goes away, so "b" may take the value.
    expect(
      (
        await importJson(
          { routes: [{ connection: "b", state: "legacy", match: { idpEntityId: "https://idp" } }] },
          "?mode=replace",
        )
      ).status,
    ).toBe(200);
  });

  it("refuses other media types, malformed JSON and bodies over 5 MiB", async () => {
    expect((await api("/import", { method: "POST", text: "x", contentType: "text/plain" })).status).toBe(415);
    expect((await api("/import", { method: "POST", text: "{", contentType: "application/json" })).status).toBe(400);
    const huge = JSON.stringify({ routes: [], pad: "x".repeat(5 * 1024 * 1024 + 10) });
    expect((await api("/import", { method: "POST", text: huge, contentType: "application/json" })).status).toBe(413);
  });

  it("writes one audit entry per import with what it changed", async () => {
    await importCsv(proxyRoutesCsv);
    const audit = await json<{ entries: Array<{ action: string; after: { added: string[] } }> }>(await api("/audit"));
    expect(audit.entries[0]).toMatchObject({ action: "import" });
    expect(audit.entries[0]?.after.added).toHaveLength(4);
  });

  it("a connection's audit includes the imports that created and changed it, not those that left it alone", async () => {
    await importJson(routesJson);
    await importJson({ routes: [{ connection: "acme-saml", state: "legacy" }] });
    await importJson({ routes: [{ connection: "globex-saml", state: "migrated" }] });
    type Audit = { entries: Array<{ action: string; subject: string | null; after: Record<string, unknown> }> };
    const acme = await json<Audit>(await api("/audit?connection=acme-saml"));
    const sorted = (v: unknown) => [...(v as string[])].sort();
    expect(acme.entries.map((e) => [e.action, sorted(e.after["added"]), e.after["changed"]])).toEqual([
      ["import", [], ["acme-saml"]],
      ["import", routesJson.routes.map((r) => r.connection).sort(), []],
    ]);
    const removed = await importJson({ routes: [{ connection: "globex-saml", state: "migrated" }] }, "?mode=replace");
    expect(removed.status).toBe(200);
    const gone = await json<Audit>(await api("/audit?connection=acme-saml&limit=1"));
    expect(gone.entries[0]?.after["removed"]).toContain("acme-saml");
  });

  it("finds an import written before the index existed, once the writer opens its tables", async () => {
    const stub = env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      new TableDb(sql); // the tables as today
      sql.exec("DROP TABLE audit_subjects"); // as before the index
      sql.exec(
        "INSERT INTO audit (at, actor, action, subject, before, after) VALUES (?, ?, 'import', NULL, NULL, ?)",
        "2026-11-01T00:00:00.000Z",
        "token:admin",
        JSON.stringify({ added: ["old-saml"], changed: [], removed: [], settingsChanged: false }),
      );
      const entries = new TableDb(sql).audit.list(10, undefined, "old-saml");
      expect(entries.map((e) => [e.action, e.at])).toEqual([["import", "2026-11-01T00:00:00.000Z"]]);
    });
  });
});
