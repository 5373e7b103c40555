/** KV namespaces that misbehave the way the real one can: throwing or slow reads. */
import { env } from "cloudflare:test";

export function failingKv(message = "KV GET failed: 503 Service Unavailable"): KVNamespace {
  return new Proxy(env.ROUTES, {
    get(target, prop, receiver) {
      if (prop === "get") return () => Promise.reject(new Error(message));
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

export function countingKv(): { kv: KVNamespace; gets: string[] } {
  const gets: string[] = [];
  const kv = new Proxy(env.ROUTES, {
    get(target, prop, receiver) {
      if (prop === "get") {
        return (key: string, options?: KVNamespaceGetOptions<"text">) => {
          gets.push(key);
          return target.get(key, options ?? { type: "text" });
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { kv, gets };
}
