/**
 * Parse once per env object: an isolate keeps the same env between requests,
 * so configuration is checked on the first request and reused after that.
 */
export function oncePerEnv<E extends object, T>(parse: (env: E) => T): (env: E) => T {
  const cache = new WeakMap<E, T>();
  return function parsedForEnv(env: E): T {
    let result = cache.get(env);
    if (result === undefined) {
      result = parse(env);
      cache.set(env, result);
    }
    return result;
  };
}
