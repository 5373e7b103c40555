/** The traffic counters' Durable Objects (src/stats/counter-do.ts), emptied between tests. */
import { env, runInDurableObject } from "cloudflare:test";
import { shardName } from "../../src/stats/recorder";

/** Deletes every count, evidence row and spent bounce mark of every shard, so a test's logins are the only ones counted. */
export async function resetCounters(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const shard = env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i)));
    await runInDurableObject(shard, (_instance, state) => {
      for (const table of ["minutes", "hours", "last_seen", "unknown_names", "evidence", "spent_marks"]) {
        state.storage.sql.exec(`DELETE FROM ${table}`);
      }
    });
  }
}
