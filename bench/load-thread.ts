/**
 * The load generator's own thread (bench/load-generator.ts starts it): autocannon runs
 * here, on an event loop nothing else uses. On the main thread Miniflare reads workerd's
 * stdout and JSON-parses every line a Worker logs; with autocannon beside it there, a
 * Worker that logs slowed the load generator itself (bench/README.md, "Where things run").
 *
 * Messages from the parent: { type: "run", id, base, spec, seconds } -> { type: "done", id, result: RunStats };
 * { type: "mixed", id, options } -> { type: "done", id, result: MixedLoad }; on failure
 * { type: "failed", id, error }. "close" ends the thread.
 */
import { parentPort } from "node:worker_threads";
import { runLoad, type LoadSpec, type RunStats } from "./load";
import { runMixedLoad, type MixedLoadOptions } from "./mixed-load";
import { describeError } from "./util";

export type LoadJob =
  | { type: "run"; id: number; base: string; spec: LoadSpec; seconds: number }
  | { type: "mixed"; id: number; options: MixedLoadOptions };

const port = parentPort;
if (port === null) throw new Error("load-thread must run in a worker thread");

async function handle(job: LoadJob): Promise<void> {
  try {
    if (job.type === "run") {
      // Copied, after the run (a few hundred KB of latencies at most).
      const result: RunStats = await runLoad(new URL(job.base), job.spec, job.seconds);
      port?.postMessage({ type: "done", id: job.id, result });
    } else {
      port?.postMessage({ type: "done", id: job.id, result: await runMixedLoad(job.options) });
    }
  } catch (err) {
    port?.postMessage({ type: "failed", id: job.id, error: describeError(err) });
  }
}

port.on("message", (message: LoadJob | "close") => {
  if (message === "close") port.close();
  else void handle(message);
});
