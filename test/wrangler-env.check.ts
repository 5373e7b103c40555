/**
 * Compile-time check, run by `npm run typecheck` (tsc), not by vitest: the hand-written,
 * documented `Env` (src/env.ts) agrees with what wrangler.toml declares, as `wrangler types`
 * generated it into worker-configuration.d.ts (`WranglerEnv` for the top level, and
 * `Cloudflare.StagingEnv` / `Cloudflare.ProductionEnv`). A binding or [vars] entry added,
 * renamed or retyped on one side only fails here, naming the key.
 */
import type { Env } from "../src/env";

/** Keys of a generated environment that Env lacks, types Env does not accept, and Env's non-string bindings wrangler.toml lacks. */
type Disagreements<Generated> =
  | Exclude<keyof Generated, keyof Env>
  | { [K in keyof Generated & keyof Env]: Generated[K] extends Env[K] ? never : K }[keyof Generated & keyof Env]
  | {
      // An optional binding (ADMIN: a service binding of local development only) may be absent.
      [K in keyof Env]-?: Env[K] extends string | undefined
        ? never
        : undefined extends Env[K]
          ? never
          : K extends keyof Generated
            ? never
            : K;
    }[keyof Env];

/** Fails to compile, naming the keys, unless there are none. */
type None<Keys extends never> = Keys;

export type EnvMatchesWranglerToml = [
  None<Disagreements<WranglerEnv>>,
  None<Disagreements<Cloudflare.StagingEnv>>,
  None<Disagreements<Cloudflare.ProductionEnv>>,
];
