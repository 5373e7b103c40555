/** `rehearse <file>`: a proposed change (routes.json, merged) tried against the logins the router recorded. */
import { UsageError } from "../args";
import type { Command } from "../command";
import { describeRehearsal, rehearseTable } from "../rehearsal";

export const rehearse: Command = {
  name: "rehearse",
  summary:
    "replay the last week's recorded logins under a proposed change: which would move, where, which would be stranded",
  positionals: [
    { name: "file", description: "the change as a routes.json (its routes and settings are merged onto the table)" },
  ],
  options: {
    window: {
      type: "string",
      value: "7d",
      description: 'how far back: hours or days, e.g. "36h", "7d" (default), at most "35d"',
      check: (v) => (/^[1-9]\d{0,3}[hd]$/.test(v) ? undefined : 'takes hours or days, e.g. "36h" or "7d"'),
    },
  },
  details: [
    "The file's routes replace those of the same connection; its settings (rollout included) replace the current ones.",
    "Each login recorded in the window is replayed through the router's own decision code, under the table now and with the change.",
    "Stranded: an OIDC login started at the new provider sent to Auth0, an Auth0-started login sent to the new provider (affinity off).",
    "Nothing is written. --rehearse on push, set, settings and rollout dry runs asks the same for that change.",
  ],
  examples: ["npm run routes -- rehearse probe.json", "npm run routes -- rehearse routes.json --window 36h"],
  async run(ctx) {
    const [file = ""] = ctx.positionals;
    if (!file.toLowerCase().endsWith(".json"))
      throw new UsageError(`rehearse takes a routes.json (.json) file, not "${file}"`);
    const text = await ctx.readFile(file);
    let table: unknown;
    try {
      table = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${file} is not JSON: ${err instanceof Error ? err.message : "parse error"}`);
    }
    const json = await rehearseTable(ctx, table, ctx.string("window"));
    ctx.print(json, () => describeRehearsal(json));
  },
};
