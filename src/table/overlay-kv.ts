/**
 * The KV replica as it will read once a change lands: the writer's rehearsal of the change
 * (src/writer/durable-object.ts, dry runs) gives the value of every KV key it would queue;
 * every other key reads from the real replica. A dry run's preview asks the router's own
 * decision code (src/callback/evaluate.ts) through a RouteStore over this reader, so the
 * prediction comes from the same code and the same record shapes as the callbacks will.
 */
import type { KvReader } from "./store";

/** Each KV key a change would write and its value; a null value deletes the key. */
export type KvOverlay = ReadonlyArray<{ key: string; value: string | null }>;

/** A reader that answers `overlay`'s keys from it and every other key from `base`. */
export function overlayKv(base: KvReader, overlay: KvOverlay): KvReader {
  const values = new Map(overlay.map(({ key, value }) => [key, value]));
  return {
    get(key, options) {
      const value = values.get(key);
      return value === undefined ? base.get(key, options) : Promise.resolve(value);
    },
  };
}
