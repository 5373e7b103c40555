/**
 * "import": how long a large import through the management API takes to be
 * fully live (issue 11: a 10 000-route import, measured and reported).
 *
 * On a router of its own (its own KV, isolate cache off so every callback
 * reads KV): POST /import?mode=replace with --import-routes routes, then, until
 * GET /status says no KV write is pending, every 100 ms:
 *   - a callback for the LAST migrated route of the file (the last to be written) -> 307 when live;
 *   - the KV settings as callbacks see them (a route's redirect needs the import's defaultTarget).
 * Reported: the import's answer time, when the settings were live, when the last
 * route answered 307, when nothing was pending, and a check of 50 random routes after.
 */
import { AdminApi, describeAnswer } from "./admin-api";
import { DEFAULT_TARGET, generateTable } from "./fixtures";
import { check } from "./load";
import { fmt, pickFrom, say, sleep } from "./util";

export interface ImportLive {
  routes: number;
  kvKeys: number;
  /** The POST /import answer (validation, one transaction, the first flush). */
  importMs: number;
  /** Until a callback for the last migrated route was answered 307 (its route and the settings live). */
  lastRouteLiveMs: number;
  /** Until GET /status reported no KV write pending. */
  fullyLiveMs: number;
  /** Sampled after: routes answered as the table says, of 50. */
  sampledOk: number;
  problems: string[];
}

const TIMEOUT_MS = 300_000;

export async function measureImportLive(base: URL, adminToken: string, routes: number): Promise<ImportLive> {
  const api = new AdminApi(base, adminToken);
  const table = generateTable(routes);
  const problems: string[] = [];
  const last = table.migrated[table.migrated.length - 1] ?? "";
  const lastUrl = new URL(`/login/callback?connection=${last}`, base);
  say(`import: POST /import?mode=replace with ${routes} routes, then polling until fully live`);
  const t0 = performance.now();
  const answer = await api.call("POST", "/import?mode=replace", table.file);
  const importMs = performance.now() - t0;
  if (answer.status !== 200) throw new Error(`import: POST /import answered ${describeAnswer(answer)}`);
  const kvKeys = Number((answer.json as { kvPending?: number }).kvPending ?? NaN);
  let lastRouteLiveMs = NaN;
  let fullyLiveMs = NaN;
  while (performance.now() - t0 < TIMEOUT_MS) {
    if (Number.isNaN(lastRouteLiveMs)) {
      const redirected = await check(lastUrl, { method: "GET" }, 307, () => undefined);
      if (redirected === undefined) lastRouteLiveMs = performance.now() - t0;
    }
    const status = await api.call("GET", "/status");
    const pending = (status.json as { kvPending?: unknown } | undefined)?.kvPending;
    if (status.status === 200 && pending === 0) {
      fullyLiveMs = performance.now() - t0;
      if (!Number.isNaN(lastRouteLiveMs)) break;
    }
    await sleep(100);
  }
  if (Number.isNaN(fullyLiveMs)) problems.push(`KV writes still pending after ${TIMEOUT_MS / 1000} s`);
  const pickMigrated = pickFrom(table.migrated);
  const pickLegacy = pickFrom(table.legacy);
  let sampledOk = 0;
  for (let i = 0; i < 50; i++) {
    const migrated = i % 2 === 0;
    const connection = migrated ? pickMigrated() : pickLegacy();
    const problem = await check(
      new URL(`/login/callback?connection=${connection}`, base),
      { method: "GET" },
      migrated ? 307 : 200,
      (res) =>
        !migrated || (res.headers.get("location") ?? "").startsWith(DEFAULT_TARGET.slice(0, 24))
          ? undefined
          : `Location ${res.headers.get("location")}`,
    );
    if (problem === undefined) sampledOk++;
    else if (problems.length < 5) problems.push(`${connection}: ${problem}`);
  }
  const result = { routes, kvKeys, importMs, lastRouteLiveMs, fullyLiveMs, sampledOk, problems };
  say(
    `import: answered in ${fmt(importMs / 1000, 1)} s (${kvKeys} KV writes still queued then); last route live at ` +
      `${fmt(lastRouteLiveMs / 1000, 1)} s; fully live at ${fmt(fullyLiveMs / 1000, 1)} s; ${sampledOk}/50 sampled routes right`,
  );
  return result;
}
