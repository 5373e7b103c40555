// Writes docs/routes.schema.json from the same zod schema the Worker validates with,
// so editors can check routes.json as it is typed. A test fails if the file is stale.
import { writeFileSync } from "node:fs";
import { routeTableJsonSchema } from "../src/table/json-schema";

writeFileSync("docs/routes.schema.json", JSON.stringify(routeTableJsonSchema(), null, 2) + "\n");
console.log("wrote docs/routes.schema.json");
