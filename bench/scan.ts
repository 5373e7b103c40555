/**
 * How long identifying a SAML POST takes, by size: the router's body scan
 * (src/callback/body-scan.ts) over a ~6 KB response, a 0.6 MB one (5 000
 * groups) and a ≥ 5 MiB one (40 000 groups), each delivered in 64 KiB chunks
 * the way a socket hands them over. Same process, interleaved rounds,
 * medians; the ratio to the 6 KB case is what must stay near 1.
 *
 *   npx tsx bench/scan.ts [--rounds 15] [--iterations 40]
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { PeekableBody } from "../src/callback/body";
import { scanCallbackBody } from "../src/callback/body-scan";
import { makeSamlResponse } from "../test/fixtures/saml";
import { median } from "./util";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "15" }, iterations: { type: "string", default: "40" } },
});
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const LIMIT = 512 * 1024;
const CHUNK = 64 * 1024;

interface Case {
  name: string;
  body: Uint8Array;
  samples: number[];
  bytesRead: number;
}

async function samlBody(groups: number | undefined): Promise<Uint8Array> {
  const value = await makeSamlResponse({
    form: "prefixed",
    audience: "urn:auth0:bench-tenant:acme-saml",
    issuer: "http://www.okta.com/exk1fcia6d6EMsf331d8",
    inResponseTo: "_4f9c1e0b7a2d4c3e8f6a1b2c3d4e5f6a7b8c9d0e",
    ...(groups === undefined ? {} : { groups }),
  });
  return new TextEncoder().encode(new URLSearchParams({ SAMLResponse: value, RelayState: "rs" }).toString());
}

function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
}

async function once(c: Case): Promise<number> {
  const body = new PeekableBody(chunked(c.body), String(c.body.length));
  const started = performance.now();
  const scan = await scanCallbackBody(body, LIMIT, undefined);
  const elapsed = performance.now() - started;
  const result = scan.signIn?.result;
  if (result?.ok !== true || result.facts.audiences[0] !== "urn:auth0:bench-tenant:acme-saml") {
    throw new Error(`${c.name}: not identified`);
  }
  c.bytesRead = body.bytesRead;
  return elapsed;
}

const cases: Case[] = [
  { name: "6 KB response", body: await samlBody(undefined), samples: [], bytesRead: 0 },
  { name: "0.6 MB (5 000 groups)", body: await samlBody(5_000), samples: [], bytesRead: 0 },
  { name: "5 MiB (40 000 groups)", body: await samlBody(40_000), samples: [], bytesRead: 0 },
];
for (const c of cases) for (let i = 0; i < 20; i++) await once(c); // warm-up

for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? cases : [...cases].reverse();
  for (const c of order) {
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) times.push(await once(c));
    c.samples.push(median(times));
  }
}

const base = median(cases[0]?.samples ?? [1]);
console.log(`body scan to identification, median of ${rounds} rounds × ${iterations} (ms), 64 KiB chunks`);
console.log("case                      body bytes   bytes read   median ms   ratio to 6 KB");
for (const c of cases) {
  const m = median(c.samples);
  console.log(
    `${c.name.padEnd(24)}  ${String(c.body.length).padStart(10)}   ${String(c.bytesRead).padStart(10)}   ${m.toFixed(3).padStart(9)}   ${(m / base).toFixed(2).padStart(6)}`,
  );
}
