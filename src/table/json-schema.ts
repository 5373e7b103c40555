import * as z from "zod";
import { RouteTableFile } from "./schema";

/** JSON Schema (draft 2020-12) of routes.json, derived from the zod schema. */
export function routeTableJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RouteTableFile, { io: "input" }),
    title: "callback-router route table (routes.json)",
  };
}
