#!/usr/bin/env node
/** Node entry for the routes CLI: `npm run routes -- <command>` (see cli/run.ts). */
import { nodeIo } from "./node-io";
import { runCli } from "./run";

try {
  process.exitCode = await runCli(process.argv.slice(2), nodeIo());
} catch (err) {
  // A bug, not a user's mistake: still one line; the stack only when asked for.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message} (a bug in the CLI; ROUTER_DEBUG=1 shows the stack)\n`);
  if (process.env["ROUTER_DEBUG"] === "1" && err instanceof Error) process.stderr.write(`${err.stack ?? ""}\n`);
  process.exitCode = 1;
}
