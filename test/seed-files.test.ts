import { describe, expect, it } from "vitest";
import schemaFile from "../docs/routes.schema.json";
import routesJson from "../routes.json";
import { routeTableJsonSchema } from "../src/table/json-schema";
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
