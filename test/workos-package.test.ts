/**
 * WorkOS' real migration package (test/fixtures/workos-package, byte-identical
 * to the export) imported whole through POST {prefix}/import, then every
 * connection's routability asserted and a real callback of each sent through
 * the router: each routes as its state says, or is reported unroutable.
 */
import { beforeEach, describe, expect, it } from "vitest";
import proxyRoutes from "./fixtures/workos-package/sso/proxy_routes.csv?raw";
import proxyRoutesCutover from "./fixtures/workos-package/sso/proxy_routes.cutover.csv?raw";
import samlConnections from "./fixtures/workos-package/sso/saml_connections.csv?raw";
import oidcConnections from "./fixtures/workos-package/sso/oidc_connections.csv?raw";
import exportWarnings from "./fixtures/workos-package/warnings.jsonl?raw";
import { ADMIN_TOKEN, adminEnv, api, json, PREFIX, resetTable } from "./support/admin";
import { call, captureLogs, HOST } from "./support/worker";

beforeEach(() => resetTable());

const NEW_CALLBACK = "https://sso.nimbus.test/sso/client_nimbus/auth0/callback";

function packageForm(routesCsv = proxyRoutesCutover, extra: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.append("proxy_routes.csv", new File([routesCsv], "proxy_routes.csv", { type: "text/csv" }));
  form.append("saml_connections.csv", new File([samlConnections], "saml_connections.csv", { type: "text/csv" }));
  form.append("oidc_connections.csv", new File([oidcConnections], "oidc_connections.csv", { type: "text/csv" }));
  form.append("warnings.jsonl", new File([exportWarnings], "warnings.jsonl"));
  for (const [name, value] of Object.entries(extra)) form.append(name, value);
  return form;
}

async function importPackage(form: FormData, query = ""): Promise<Response> {
  return call(
    new Request(`${HOST}${PREFIX}/import${query}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: form,
    }),
    adminEnv(),
  );
}

interface ImportResult {
  dryRun: boolean;
  format: string;
  diff: { added: string[]; changed: unknown[] };
  warnings: string[];
  derived: Array<{ connection: string; field: string; value: unknown; from: string }>;
}

/** Routability of every row of the fixture after the cut-over file is imported (the notes' table). */
const EXPECTED: Record<string, { state: string; protocol: string; level: string }> = {
  "larkspur-saml": { state: "migrated", protocol: "samlp", level: "routable" },
  "brightwater-saml": { state: "legacy", protocol: "samlp", level: "routable" },
  "meridian-saml": { state: "migrated", protocol: "samlp", level: "routable" },
  "halden-saml": { state: "migrated", protocol: "samlp", level: "routable" },
  "foxglove-saml": { state: "legacy", protocol: "samlp", level: "routable" },
  "alder-entra": { state: "migrated", protocol: "waad", level: "unroutable" },
  "saltmarsh-oidc": { state: "migrated", protocol: "oidc", level: "partial" },
  "fernhill-oidc": { state: "legacy", protocol: "oidc", level: "partial" },
  "copperleaf-okta": { state: "legacy", protocol: "okta", level: "partial" },
  "birchway-google": { state: "legacy", protocol: "google-apps", level: "unroutable" },
};

describe("importing WorkOS' whole migration package", () => {
  it("dry run: every row, every derived value, and a warning per migrated row that is not routable; nothing written", async () => {
    const res = await importPackage(packageForm(), "?dryRun=true");
    expect(res.status).toBe(200);
    const result = await json<ImportResult>(res);
    expect(result.format).toBe("workos-package");
    expect(result.diff.added.sort()).toEqual(Object.keys(EXPECTED).sort());
    const derived = (connection: string, field: string) =>
      result.derived.find((d) => d.connection === connection && d.field === field)?.value;
    expect(derived("saltmarsh-oidc", "match.oidcIssuer")).toBe("https://id.saltmarsh.test");
    expect(derived("fernhill-oidc", "match.oidcIssuer")).toBe("https://auth.fernhill.test/realms/staff");
    expect(derived("copperleaf-okta", "match.oidcIssuer")).toBe("https://copperleaf.okta.test");
    expect(derived("copperleaf-okta", "protocol")).toBe("okta");
    expect(derived("alder-entra", "protocol")).toBe("waad");
    expect(derived("alder-entra", "match.oidcIssuer")).toBeUndefined();
    expect(derived("birchway-google", "match.oidcIssuer")).toBeUndefined();
    expect(derived("brightwater-saml", "match.idpEntityId")).toBe("https://auth.nimbus.test/saml/brightwater");
    expect(derived("meridian-saml", "organizations")).toEqual(["org_Md9aE4qL2yH6wK8c", "org_Md1pS7gB5nZ3vX9j"]);
    expect(derived("meridian-saml", "organization")).toBe("org_Md9aE4qL2yH6wK8c");
    for (const d of result.derived)
      expect(d.from).toMatch(/^(saml_connections|oidc_connections)\.csv line \d+|^warnings\.jsonl line \d+/);

    const warnings = result.warnings.join("\n");
    expect(warnings).toMatch(/oidc_connections\.csv line 2 \(alder-entra\): Microsoft's issuer names the tenant id/);
    expect(warnings).toMatch(
      /oidc_connections\.csv line 6 \(birchway-google\): https:\/\/accounts\.google\.com is every Google customer's issuer/,
    );
    expect(warnings).toMatch(
      /line 6 \(foxglove-saml\): organizationExternalId con_Fx9wD4sA7eR2yU5i is the Auth0 connection id/,
    );
    // meridian-saml's organizations come back from warnings.jsonl: no "imported without an organization" for it.
    expect(warnings).not.toMatch(/\(meridian-saml\): organizationExternalId/);
    expect(warnings).toMatch(/orchard-saml \(samlp\), tidewater-ping \(pingfederate\), kestrel-adfs \(adfs\)/);
    expect(warnings).toMatch(/proxy_routes\.csv line 7 \(alder-entra\): migrated, unroutable/);
    expect(warnings).toMatch(
      /proxy_routes\.csv line 8 \(saltmarsh-oidc\): migrated, partial — identified only when the IdP sends iss/,
    );
    expect(warnings).not.toMatch(/\(larkspur-saml\): migrated,/);

    expect((await api("/routes/alder-entra")).status).toBe(404);
  });

  it("imports all of it; each route's routability is what its protocol and matches allow", async () => {
    expect((await importPackage(packageForm())).status).toBe(200);
    for (const [connection, expected] of Object.entries(EXPECTED)) {
      const route = await json<{ state: string; protocol: string; routability: { level: string; reason: string } }>(
        await api(`/routes/${connection}`),
      );
      expect({ connection, state: route.state, protocol: route.protocol, level: route.routability.level }).toEqual({
        connection,
        ...expected,
      });
    }
    const foxglove = await json<Record<string, unknown>>(await api("/routes/foxglove-saml"));
    expect(foxglove["organization"]).toBeUndefined();

    const coverage = await json<{ byLevel: Record<string, number>; atRisk: Array<{ connection: string }> }>(
      await api("/coverage"),
    );
    expect(coverage.byLevel).toEqual({ routable: 5, partial: 3, unroutable: 2 });
    expect(coverage.atRisk.map((r) => r.connection).sort()).toEqual(["alder-entra", "saltmarsh-oidc"]);
  });

  it("refuses the whole package when one row is bad, naming the file and line", async () => {
    const bad = proxyRoutesCutover.replace(",workos,Existing Auth0 OIDC", ",sideways,Existing Auth0 OIDC");
    const res = await importPackage(packageForm(bad));
    expect(res.status).toBe(422);
    expect((await json<{ errors: Array<{ field: string }> }>(res)).errors[0]?.field).toBe(
      "proxy_routes.csv line 7.cutoverState",
    );
    expect((await api("/routes/larkspur-saml")).status).toBe(404);
    const stray = await importPackage(packageForm(proxyRoutes, { "users.csv": "x" }));
    expect(stray.status).toBe(422);
  });

  it("a connection enabled for two organizations answers /evaluate?organization= for each", async () => {
    expect((await importPackage(packageForm())).status).toBe(200);
    for (const organization of ["org_Md9aE4qL2yH6wK8c", "org_Md1pS7gB5nZ3vX9j"]) {
      const evaluation = await json<{ destination: string; connections: Array<{ connection: string }> }>(
        await api(`/evaluate?organization=${organization}`),
      );
      expect(evaluation).toMatchObject({ destination: "new", connections: [{ connection: "meridian-saml" }] });
    }
    const list = await json<{ routes: Array<{ connection: string }> }>(
      await api("/routes?organization=org_Md1pS7gB5nZ3vX9j"),
    );
    expect(list.routes.map((r) => r.connection)).toEqual(["meridian-saml"]);
  });

  it("every connection's real callback routes as its state says, or as its routability reports", async () => {
    expect((await importPackage(packageForm())).status).toBe(200);
    const samlBody = `SAMLResponse=${encodeURIComponent(btoa("<x/>"))}&RelayState=r`;
    for (const [connection, expected] of Object.entries(EXPECTED)) {
      const isSaml = expected.protocol === "samlp";
      // SAML posts to the ACS URL (connection= in it); OIDC comes back to /login/callback with code + state.
      const request = isSaml
        ? new Request(`${HOST}/login/callback?connection=${connection}`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: samlBody,
          })
        : new Request(`${HOST}/login/callback?code=c&state=s`);
      const { result, logs } = await captureLogs(() => call(request));
      const log = logs.find((l) => l["event"] === "callback");
      const evaluation = await json<{ destination: string; explanation?: string }>(
        await api(`/evaluate?connection=${connection}`),
      );
      if (isSaml) {
        expect(log).toMatchObject({ connection, decision: expected.state === "migrated" ? "new" : "auth0" });
      } else {
        // Not identified: affinity (none here), then unknown = auth0.
        expect(log).toMatchObject({ connection: null, decision: "auth0", reason: "unidentified" });
      }
      expect(evaluation.destination).toBe(result.status === 307 ? "new" : "auth0");
      if (expected.state === "migrated" && !isSaml) expect(evaluation.explanation).toMatch(/not identified/);
    }
  });

  it("with unknown: probe, an unroutable migrated connection's callbacks reach the new provider, and /evaluate says how", async () => {
    expect((await importPackage(packageForm())).status).toBe(200);
    const set = await api("/settings", { method: "PUT", body: { unknown: "probe", defaultTarget: NEW_CALLBACK } });
    expect(set.status).toBe(200);
    const res = await call(new Request(`${HOST}/login/callback?code=c&state=s`));
    expect(res.status).toBe(307);
    const evaluation = await json<{ destination: string; reason: string; explanation: string }>(
      await api("/evaluate?connection=alder-entra"),
    );
    expect(evaluation).toMatchObject({ destination: "new", reason: "unidentified" });
    expect(evaluation.explanation).toMatch(/unknown: probe/);
  });
});
