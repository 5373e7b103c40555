/** The CLI's contact with the world, wired to Node: fetch, the file system, stdout/stderr. */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIo } from "./command";

export const SCHEMA_FILE = fileURLToPath(new URL("../docs/routes.schema.json", import.meta.url));

/**
 * `cwd` is where relative paths start. `npm run` starts scripts in the package
 * root and says in INIT_CWD where it was called from, so that is the default.
 */
export function nodeIo(
  cwd = process.env["INIT_CWD"] ?? process.cwd(),
  out: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
  err: (text: string) => void = (text) => process.stderr.write(`${text}\n`),
  env: Record<string, string | undefined> = process.env,
): CliIo {
  return {
    fetch: (input, init) => fetch(input, init),
    readFile: (file) => readFile(path.resolve(cwd, file), "utf8"),
    writeFile: (file, text) => writeFile(path.resolve(cwd, file), text, "utf8"),
    out,
    err,
    env,
    cwd,
    schemaFile: SCHEMA_FILE,
  };
}
