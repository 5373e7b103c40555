/** Drives the Worker inside workerd with real (simulated) KV, per-test config. */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { expect, inject } from "vitest";
import worker from "./in-process-worker";
import type { Env } from "../../src/env";
import { tableToKvEntries } from "../../src/table/kv-layout";
import type { RouteTableFile } from "../../src/table/schema";
import { isolateCache } from "../../src/table/store";
import type { Received } from "./origin-server";

export const HOST = "https://auth.example.com";

export function testEnv(overrides: Partial<Env> = {}): Env {
  return {
    ROUTES: env.ROUTES,
    ROUTE_WRITER: env.ROUTE_WRITER,
    TRAFFIC_COUNTER: env.TRAFFIC_COUNTER,
    // The admin Worker's own object (vitest.config.ts binds it; cloudflare:test's env type is the router's).
    AUTOPILOT: (env as Partial<Env>).AUTOPILOT,
    // Send counts at the end of each request, so a test sees them at once.
    STATS_FLUSH_MS: "0",
    AUTH0_ORIGIN: `http://127.0.0.1:${inject("originPort")}`,
    ENVIRONMENT: "development",
    AUTH0_TENANT: "example-tenant",
    ALLOWED_TARGET_HOSTS: "sso.example.com, localhost:9999, sso.nimbus.test",
    ROUTE_CACHE_SECONDS: "0",
    AUTH0_TIMEOUT_MS: "5000",
    ...overrides,
  };
}

export async function call(request: Request, overrides: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, testEnv(overrides), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Replaces the whole KV namespace with `table`, and forgets what the isolate cached. */
export async function seed(table: RouteTableFile, kv: KVNamespace = env.ROUTES): Promise<void> {
  await clearKv(kv);
  isolateCache.clear();
  const entries = tableToKvEntries(table, "2026-11-23T00:00:00.000Z");
  await Promise.all(entries.map((e) => kv.put(e.key, e.value)));
}

export async function clearKv(kv: KVNamespace = env.ROUTES): Promise<void> {
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<unknown, string> = await kv.list(cursor === undefined ? {} : { cursor });
    await Promise.all(page.keys.map((k) => kv.delete(k.name)));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
}

/** What the Auth0 stand-in received, from its echo. */
export async function received(response: Response): Promise<Received> {
  expect(response.headers.get("x-origin") ?? response.headers.get("content-type")).toBeTruthy();
  return (await response.json()) as Received;
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function postForm(path: string, body: string, headers: Record<string, string> = {}): Request {
  return new Request(`${HOST}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Captures the JSON log lines the Worker prints while `fn` runs. */
export async function captureLogs<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; logs: Array<Record<string, unknown>> }> {
  const logs: Array<Record<string, unknown>> = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      original(...args);
    }
  };
  try {
    return { result: await fn(), logs };
  } finally {
    console.log = original;
  }
}
