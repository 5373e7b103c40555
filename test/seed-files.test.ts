import { describe, expect, it } from "vitest";
import schemaFile from "../docs/routes.schema.json";
import routesJson from "../routes.json";
import productionExample from "../routes.production.example.json";
import { routeTableJsonSchema } from "../src/table/json-schema";
import { routabilityOf, type CallbackShape, type ShapeRoutability } from "../src/table/routability";
import { describeIssues, RouteTableFile } from "../src/table/schema";
import { checkTarget } from "../src/targets";

describe("shipped files", () => {
  it("routes.json passes the route table schema", () => {
    const parsed = RouteTableFile.safeParse(routesJson);
    expect(parsed.success ? [] : describeIssues(parsed.error)).toEqual([]);
  });

  it("routes.json's default target is allowed by the development config in wrangler.toml", () => {
    const target = RouteTableFile.parse(routesJson).settings?.defaultTarget ?? "";
    expect(
      checkTarget(target, { environment: "development", allowedTargetHosts: new Set(["localhost:8789"]) }).ok,
    ).toBe(true);
  });

  it("docs/routes.schema.json is generated from the current schema (run `npx tsx scripts/write-schema.ts`)", () => {
    expect(schemaFile).toEqual(JSON.parse(JSON.stringify(routeTableJsonSchema())));
  });
});

/**
 * What a shipped table's notes say about identifying a connection's callbacks is what
 * src/table/routability.ts says: the demo and the production example teach operators.
 */
const NOTE_CLAIMS: ReadonlyArray<{ says: RegExp; shape: CallbackShape; by: ShapeRoutability["by"] }> = [
  { says: /identified by (the|its) iss\b|identified by its issuer/i, shape: "oidc-code-with-iss", by: "oidc-issuer" },
  { says: /identified by the SAML 1\.1 Issuer/i, shape: "wsfed-post", by: "idp-issuer" },
];

describe.each([
  ["routes.json", routesJson],
  ["routes.production.example.json", productionExample],
])("%s's notes", (_file, table) => {
  const routes = RouteTableFile.parse(table).routes;
  const claiming = routes.filter((r) => /identified by/i.test(r.note ?? ""));

  it("has notes that say how a route is identified (the checks below are not empty)", () => {
    expect(claiming.length).toBeGreaterThan(0);
  });

  it.each(claiming.map((r) => [r.connection, r] as const))(
    "%s: the 'identified by' in the note is a shape routability identifies that way",
    (_connection, route) => {
      const note = route.note ?? "";
      const claim = NOTE_CLAIMS.find((c) => c.says.test(note));
      expect(claim, `no check for the note "${note}": add it to NOTE_CLAIMS`).toBeDefined();
      expect(routabilityOf(route).shapes).toContainEqual(
        expect.objectContaining({ shape: claim?.shape, identified: true, by: claim?.by }),
      );
    },
  );

  it("every route whose callbacks the table cannot identify says so in its note", () => {
    const silent = routes
      .filter((r) => routabilityOf(r).level === "unroutable")
      .filter((r) => !/not identified|cannot (be )?identif/i.test(r.note ?? ""))
      .map((r) => r.connection);
    expect(silent).toEqual([]);
  });
});
