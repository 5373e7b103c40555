/**
 * Test-side handle on the fake WorkOS (test/support/workos-fake.ts): its
 * shapes, its control endpoint, and the env that points the Worker at it.
 * The fake keeps one state per API key, so test files never share state.
 */
import { inject } from "vitest";
import type { Env } from "../../src/env";
import type { FakeEvent } from "./workos-events";

export type { FakeEvent };

export interface FakeConnection {
  id: string;
  name: string;
  state: "draft" | "active" | "inactive" | "validating";
  organization_id?: string | null;
  connection_type?: string;
}

export interface FakeFlag {
  enabled: boolean;
  default_value: boolean;
  targets: { organizations: Array<{ id: string; enabled: boolean }>; users: Array<{ id: string; enabled: boolean }> };
}

export interface FakeBehaviour {
  connections?: FakeConnection[];
  /** What `GET /events` lists, oldest first. */
  events?: FakeEvent[];
  flags?: Record<string, FakeFlag>;
  /** keyed: `{ slug: flag }` (what the SDK polls); list: `{ data: [{ slug, ...flag }] }`; v2: a rule-based envelope. */
  flagsFormat?: "keyed" | "list" | "v2";
  /** Answer the next request 429 with this Retry-After (seconds or an HTTP date), once. */
  rateLimitOnce?: string | null;
  /** Answer the next N requests 503 ("always": every one). */
  failures?: number | "always";
  /** The failures start only after this many requests were answered normally. */
  failuresAfter?: number;
  /** json: a body that is not JSON; types: a field of the wrong type. */
  malformed?: "json" | "types" | null;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

export function fakeWorkosUrl(): string {
  return inject("workosFakeUrl");
}

/** Replaces the fake's state for `key` (unset fields take their defaults) and clears its request log. */
export async function fakeWorkos(key: string, behaviour: FakeBehaviour): Promise<void> {
  const res = await fetch(`${fakeWorkosUrl()}/__fake/behaviour`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, ...behaviour }),
  });
  if (res.status !== 204) throw new Error(`fake WorkOS control answered ${res.status}`);
}

/** What the fake received for `key` since it was last set. */
export async function fakeRequests(key: string): Promise<FakeRequest[]> {
  const res = await fetch(`${fakeWorkosUrl()}/__fake/requests?key=${encodeURIComponent(key)}`);
  return (await res.json()) as FakeRequest[];
}

/** The Worker env that points the sync at the fake with `key`. */
export function workosEnv(key: string | undefined, overrides: Partial<Env> = {}): Partial<Env> {
  return { WORKOS_API_URL: fakeWorkosUrl(), ...(key === undefined ? {} : { WORKOS_API_KEY: key }), ...overrides };
}

/** `count` connections conn_001… named sso-001…, all active, in org_001…. */
export function manyConnections(count: number): FakeConnection[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i + 1).padStart(3, "0");
    return { id: `conn_${n}`, name: `sso-${n}`, state: "active", organization_id: `org_${n}` };
  });
}
