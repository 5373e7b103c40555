// Prints the size of the deploy bundle that `wrangler deploy --dry-run --outdir` wrote.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const file = process.argv[2] ?? ".wrangler/deploy-dry-run/index.js";
const bytes = readFileSync(file);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`deploy bundle ${file}: ${kib(bytes.length)} raw, ${kib(gzipSync(bytes, { level: 9 }).length)} gzip`);
