/** KV namespaces that misbehave the way the real one can: throwing or slow reads. */
import { env } from "cloudflare:test";

/** The binding's own member, bound to it (workerd bindings refuse a Proxy as `this`). */
export function passThrough<T extends object>(target: T, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop) as unknown;
  return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

export function failingKv(message = "KV GET failed: 503 Service Unavailable"): KVNamespace {
  return new Proxy(env.ROUTES, {
    get(target, prop) {
      if (prop === "get") return () => Promise.reject(new Error(message));
      return passThrough(target, prop);
    },
  });
}

export function countingKv(): { kv: KVNamespace; gets: string[] } {
  const gets: string[] = [];
  const kv = new Proxy(env.ROUTES, {
    get(target, prop) {
      if (prop === "get") {
        return (key: string, options?: KVNamespaceGetOptions<"text">) => {
          gets.push(key);
          return target.get(key, options ?? { type: "text" });
        };
      }
      return passThrough(target, prop);
    },
  });
  return { kv, gets };
}

/** Reads that answer only after `ms` (a slow KV location). */
export function slowKv(ms: number): KVNamespace {
  return new Proxy(env.ROUTES, {
    get(target, prop) {
      if (prop === "get") {
        return async (key: string, options?: KVNamespaceGetOptions<"text">) => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          return target.get(key, options ?? { type: "text" });
        };
      }
      return passThrough(target, prop);
    },
  });
}
