/**
 * The load generator (autocannon) in a worker thread of its own (bench/load-thread.ts),
 * one job at a time: a fixed-load run (bench/load.ts) or the "mixed" load
 * (bench/mixed-load.ts). Same process, same loopback, same autocannon options; only the
 * event loop differs, so Miniflare's handling of the Workers' log lines on the main
 * thread no longer delays the requests and the responses' timing.
 */
import { Worker } from "node:worker_threads";
import type { LoadSpec, RunStats } from "./load";
import type { LoadJob } from "./load-thread";
import type { MixedLoad } from "./mixed-report";
import type { MixedLoadOptions } from "./mixed-load";
import { sleep } from "./util";

type Reply = { type: "done"; id: number; result: unknown } | { type: "failed"; id: number; error: string };

export class LoadGenerator {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(result: unknown): void; reject(err: Error): void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: Reply) => {
      const job = this.pending.get(reply.id);
      if (job === undefined) return;
      this.pending.delete(reply.id);
      if (reply.type === "done") job.resolve(reply.result);
      else job.reject(new Error(`load generator: ${reply.error}`));
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const job of this.pending.values()) job.reject(err);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`load generator thread exited (${code})`)));
    // An idle generator does not keep the process alive.
    worker.unref();
  }

  /** `scriptPath`: bench/load-thread.ts bundled (bench/workers.ts, buildWorkers). */
  static async start(scriptPath: string): Promise<LoadGenerator> {
    const worker = new Worker(scriptPath);
    await new Promise<void>((resolve, reject) => {
      worker.once("online", resolve);
      worker.once("error", reject);
    });
    return new LoadGenerator(worker);
  }

  /** One autocannon run of `seconds` against `base` (bench/load.ts runLoad, on the generator's thread). */
  run(base: URL, spec: LoadSpec, seconds: number): Promise<RunStats> {
    return this.send({ type: "run", id: this.nextId++, base: base.href, spec, seconds }) as Promise<RunStats>;
  }

  /** The "mixed" load (bench/mixed-load.ts), on the generator's thread. */
  mixed(options: MixedLoadOptions): Promise<MixedLoad> {
    return this.send({ type: "mixed", id: this.nextId++, options }) as Promise<MixedLoad>;
  }

  async close(): Promise<void> {
    this.worker.postMessage("close");
    await Promise.race([new Promise((resolve) => this.worker.once("exit", resolve)), sleep(2000)]);
    await this.worker.terminate();
  }

  private send(job: LoadJob): Promise<unknown> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.worker.ref();
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job);
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }
}
