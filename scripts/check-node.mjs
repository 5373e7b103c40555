// Exits with one clear line when this Node is older than package.json's engines.node (">=X.Y"),
// instead of a stack trace from wrangler, vitest or tsx further on. Plain JavaScript with no
// imports beyond node:fs, so that it runs on any Node a machine may have.
import { readFileSync } from "node:fs";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const match = /^>=\s*(\d+)\.(\d+)/.exec(engines.node);
if (match === null) throw new Error(`package.json engines.node is not ">=major.minor": ${engines.node}`);
const [want, have] = [match.slice(1, 3), process.versions.node.split(".").slice(0, 2)].map((v) => v.map(Number));
if (have[0] < want[0] || (have[0] === want[0] && have[1] < want[1])) {
  console.error(
    `callback-router needs Node ${engines.node} (Node 24 LTS recommended); this is Node ${process.version}. ` +
      "Install a newer one first (README, Requirements).",
  );
  process.exit(1);
}
