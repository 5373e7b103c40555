/** The Auth0 stand-in (bench/origin-thread.ts) in a worker thread: its own event loop, same process. */
import { Worker } from "node:worker_threads";
import { sleep } from "./util";

export interface OriginHandle {
  port: number;
  requests(): Promise<number>;
  close(): Promise<void>;
}

export async function startOrigin(scriptPath: string): Promise<OriginHandle> {
  const worker = new Worker(scriptPath);
  const waiters: Array<(message: Record<string, unknown>) => boolean> = [];
  worker.on("message", (message: unknown) => {
    if (typeof message !== "object" || message === null) return;
    const m = message as Record<string, unknown>;
    const i = waiters.findIndex((w) => w(m));
    if (i !== -1) waiters.splice(i, 1);
  });
  const failed = new Promise<never>((_, reject) => {
    worker.once("error", reject);
  });
  failed.catch(() => undefined);
  const next = (type: string): Promise<Record<string, unknown>> =>
    Promise.race([
      failed,
      new Promise<Record<string, unknown>>((resolve) => {
        waiters.push((m) => {
          if (m.type !== type) return false;
          resolve(m);
          return true;
        });
      }),
    ]);
  const listening = await next("listening");
  let closed = false;
  return {
    port: Number(listening.port),
    async requests() {
      const reply = next("count");
      worker.postMessage("count");
      return Number((await reply).requests);
    },
    async close() {
      if (closed) return;
      closed = true;
      const done = next("closed");
      worker.postMessage("close");
      await Promise.race([done, sleep(2000)]).catch(() => undefined);
      await worker.terminate();
    },
  };
}
