/**
 * The measured part of "mixed" (bench/mixed.ts): warm-up, the run with route
 * changes through the API, then the traffic counters checked against the
 * router's own decision log over the same span.
 */
import type { LogTally } from "./logs";
import type { MixedScenario } from "./mixed";
import { mixedFailed, type MixedResult } from "./mixed-report";
import { COUNTER_FLUSH_WAIT_MS } from "./settings";
import { fmt, say, sleep } from "./util";

export interface Counters {
  decided: number;
  counted: number;
  perSecond: number;
}

export async function runMixed(
  mixed: MixedScenario,
  logs: LogTally,
  seconds: number,
): Promise<{ result: MixedResult; counters: Counters; failed: boolean }> {
  await mixed.warmUp();
  // Let the warm-up's counter batches (STATS_FLUSH_MS, 2 s by default) land first.
  await sleep(COUNTER_FLUSH_WAIT_MS);
  const countedBefore = await mixed.countedCallbacks();
  logs.reset();
  const load = await mixed.measure();
  await sleep(COUNTER_FLUSH_WAIT_MS); // the last log lines and counter batches
  const decided = [...logs.decisions.values()].reduce((a, b) => a + b, 0);
  const counted = (await mixed.countedCallbacks()) - countedBefore;
  const counters = { decided, counted, perSecond: counted / seconds };
  say(
    `counters: ${counted} callbacks recorded of ${decided} the router decided during the measured ` +
      `${seconds}s (${fmt(counters.perSecond, 0)} callbacks/s)` +
      (counted === decided ? ", none lost" : `, MISMATCH ${counted - decided}`),
  );
  const worker = {
    workerDecisions: Object.fromEntries(logs.decisions),
    workerProblems: Object.fromEntries(logs.problemEvents),
  };
  const partial = mixed.result(load, await mixed.afterRun(), worker);
  const result = { ...partial, failed: mixedFailed(partial) };
  say(
    `mixed: ${result.requests} req, ${fmt(result.reqPerSec, 0)} req/s, errors ${result.errors}, ` +
      `${result.api.changes} API changes (non-2xx ${result.api.non2xx})`,
  );
  return { result, counters, failed: result.failed || counted !== decided };
}
