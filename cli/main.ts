#!/usr/bin/env node
/** Node entry for the routes CLI: `npm run routes -- <command>` (see cli/commands.ts). */
import { readFile } from "node:fs/promises";
import { runCli } from "./commands";

const code = await runCli(process.argv.slice(2), {
  fetch: (input, init) => fetch(input, init),
  readFile: (path) => readFile(path, "utf8"),
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
});
process.exitCode = code;
