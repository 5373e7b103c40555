/** The fixed-load scenarios' route tables: generated, checked against the API's schema, as KV entries. */
import { tableToKvEntries } from "../src/table/kv-layout";
import { RouteTableFile } from "../src/table/schema";
import { generateTable, type GeneratedTable } from "./fixtures";
import type { KvEntry } from "./kv-seed";
import { SMALL_ROUTES, UPDATED_AT } from "./settings";
import { say } from "./util";

export interface Tables {
  small: GeneratedTable;
  big: GeneratedTable;
  smallEntries: KvEntry[];
  bigEntries: KvEntry[];
}

export function buildTables(bigRoutes: number): Tables {
  say(`generating tables (${SMALL_ROUTES} and ${bigRoutes} routes)`);
  const small = generateTable(SMALL_ROUTES);
  const big = generateTable(bigRoutes);
  const t0 = performance.now();
  for (const [name, table] of [
    ["small", small],
    ["big", big],
  ] as Array<[string, GeneratedTable]>) {
    const parsed = RouteTableFile.safeParse(table.file);
    if (!parsed.success) {
      throw new Error(
        `generated ${name} table is not a valid RouteTableFile: ${JSON.stringify(parsed.error.issues[0])}`,
      );
    }
  }
  const validateMs = performance.now() - t0;
  const smallEntries = tableToKvEntries(small.file, UPDATED_AT);
  const bigEntries = tableToKvEntries(big.file, UPDATED_AT);
  say(
    `  tables valid (RouteTableFile.safeParse, ${validateMs.toFixed(0)} ms); ` +
      `tableToKvEntries: ${smallEntries.length} and ${bigEntries.length} KV entries`,
  );
  return { small, big, smallEntries, bigEntries };
}
