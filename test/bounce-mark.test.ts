/**
 * A bounce counts only if the router sent it (issue 22): the router's 307 (or form) to the
 * new provider sets a signed mark bound to the connection; a `fallback=auth0` callback is a
 * bounce of C only with a valid, unexpired mark for C, and only the first time that mark is
 * seen (each hand-off's mark carries a nonce; the counters keep the spent ones). Anything
 * else is forwarded to Auth0 exactly as before but counted `fallback-unverified`: no share,
 * no flag, no error.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { CallbackLog } from "../src/log";
import { TrafficCounter } from "../src/stats/counter-do";
import { outcomeOf } from "../src/stats/outcome";
import { markShard, shardName } from "../src/stats/recorder";
import { BounceMarks, BUCKET_MS, MARK_MAX_AGE_SECONDS, MARK_TTL_MS } from "../src/callback/bounce-mark";
import { api, json, resetTable } from "./support/admin";
import { call, captureLogs, form, HOST, postForm, received } from "./support/worker";

const SECRET = "bounce-mark-test-secret-0123456789abcdef";
const WITH_SECRET = { AFFINITY_SECRET: SECRET };

type Stats = {
  counts: { logins: number; new: number; fallback: number; errors: number; callbacks: number };
  fallbackShare: number | null;
  flags: string[];
  lastSeen: { kind: string } | null;
};

let n = 0;
/** A connection of its own per test: its counters start at zero. */
let connection = "";

beforeEach(async () => {
  n++;
  connection = `bounce-${Date.now().toString(36)}-${n}`;
  await resetTable();
  const res = await api("/import?mode=replace", {
    method: "POST",
    body: {
      settings: { defaultTarget: "https://sso.example.com/cb" },
      routes: [
        { connection, state: "migrated" },
        { connection: `${connection}-b`, state: "migrated" },
      ],
    },
  });
  expect(res.status).toBe(200);
});

async function stats(name = connection): Promise<Stats> {
  const res = await api(`/stats/${name}`);
  expect(res.status).toBe(200);
  return json<Stats>(res);
}

/** The router's 307 for `name`, and the mark it set (`name=value`, ready for a Cookie header). */
async function redirected(name = connection, env: Record<string, string> = WITH_SECRET) {
  const res = await call(new Request(`${HOST}/login/callback?connection=${name}&code=c&state=s`), env);
  expect(res.status).toBe(307);
  const setCookie = res.headers.get("set-cookie");
  return { res, setCookie, cookie: setCookie?.split(";")[0] ?? null };
}

function bounce(query: string, cookie: string | null, env: Record<string, string> = WITH_SECRET) {
  const headers: Record<string, string> = cookie === null ? {} : { cookie };
  return captureLogs(() => call(new Request(`${HOST}/login/callback?${query}`, { headers }), env));
}

describe("bounce marks", () => {
  it("the 307 to the new provider carries the mark: Path=/login/callback, Secure, HttpOnly, SameSite=None, short-lived", async () => {
    const values = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { setCookie, cookie } = await redirected();
      expect(setCookie).toMatch(
        new RegExp(
          `^crb-${connection}=[0-9a-z]+\\.[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]{16}; Max-Age=${MARK_MAX_AGE_SECONDS}; Path=/login/callback; Secure; HttpOnly; SameSite=None$`,
        ),
      );
      values.add(cookie ?? "");
    }
    // Each hand-off its own mark (a nonce of its own): one mark can count one bounce.
    expect(values.size).toBe(3);
    expect(MARK_MAX_AGE_SECONDS).toBe(900);
  });

  it("40 unmarked fallback=auth0 callbacks of a healthy migrated connection: forwarded to Auth0 as before, no share, no flag", async () => {
    for (let i = 0; i < 10; i++) await redirected();
    const before = await stats();
    expect(before).toMatchObject({ counts: { logins: 10, new: 10, fallback: 0 }, fallbackShare: 0, flags: [] });
    for (let i = 0; i < 40; i++) {
      const { result, logs } = await bounce(`connection=${connection}&code=c${i}&state=s&fallback=auth0`, null);
      expect(result.status).toBe(200);
      // Auth0 got the callback with fallback stripped and nothing else changed.
      const got = await received(result);
      expect(got.method).toBe("GET");
      expect(got.url).toBe(`/login/callback?connection=${connection}&code=c${i}&state=s`);
      expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
        decision: "auth0",
        reason: "fallback-bounce",
        fallback: true,
        fallbackMark: "missing",
      });
    }
    const after = await stats();
    expect(after.counts).toEqual(before.counts);
    expect(after.fallbackShare).toBe(0);
    expect(after.flags).toEqual([]);
    expect(after.lastSeen?.kind).toBe("fallback-unverified");
  }, 60_000);

  it("a bounce carrying the router's mark counts, and enough of them flag the connection", async () => {
    for (let i = 0; i < 4; i++) {
      const { cookie } = await redirected();
      expect(cookie).not.toBeNull();
      const { result, logs } = await bounce(`connection=${connection}&code=c&state=s&fallback=auth0`, cookie);
      expect(result.status).toBe(200);
      // The browser's cookies reach Auth0 as they were sent, the mark among them.
      expect((await received(result)).headers["cookie"]).toBe(cookie);
      expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ fallbackMark: "valid" });
    }
    expect(await stats()).toMatchObject({
      counts: { logins: 4, new: 4, fallback: 4, callbacks: 8 },
      fallbackShare: 1,
      flags: ["fallback-share-high"],
    });
  });

  it("a mark for connection A does not verify a bounce naming B, not even renamed to B's cookie", async () => {
    const other = `${connection}-b`;
    await redirected(other);
    const { cookie } = await redirected(connection);
    const value = cookie?.split("=")[1];
    for (const sent of [cookie, `crb-${other}=${value}`]) {
      const { logs } = await bounce(`connection=${other}&fallback=auth0`, sent);
      expect(logs.find((l) => l["event"] === "callback")?.["fallbackMark"]).toBe(
        sent === cookie ? "missing" : "invalid",
      );
    }
    expect((await stats(other)).counts).toMatchObject({ new: 1, fallback: 0 });
  });

  it("an expired mark (the router's own, made MARK_TTL_MS + a bucket ago) does not verify", async () => {
    const marks = new BounceMarks(SECRET);
    const old = (await marks.markFor(connection, Date.now() - MARK_TTL_MS - BUCKET_MS)).split(";")[0] ?? "";
    const fresh = (await marks.markFor(connection, Date.now())).split(";")[0] ?? "";
    await redirected();
    expect((await bounce(`connection=${connection}&fallback=auth0`, old)).logs).toContainEqual(
      expect.objectContaining({ event: "callback", fallbackMark: "expired" }),
    );
    // The same key, made now: valid (so "expired" above is the age, not the key).
    expect((await bounce(`connection=${connection}&fallback=auth0`, fresh)).logs).toContainEqual(
      expect.objectContaining({ event: "callback", fallbackMark: "valid" }),
    );
    expect((await stats()).counts).toMatchObject({ new: 1, fallback: 1 });
  });

  it("a mark signed with another secret, or edited, is invalid", async () => {
    const foreign = (await new BounceMarks(`${SECRET}-other`).markFor(connection, Date.now())).split(";")[0] ?? "";
    const { cookie } = await redirected();
    const edited = `${cookie?.slice(0, -1)}${cookie?.endsWith("A") ? "B" : "A"}`;
    // A new nonce under the old tag: the nonce is signed, so nobody can mint a mark id of their own.
    const [bucket = "", nonce = "", tag = ""] = (cookie?.split("=")[1] ?? "").split(".");
    const renonced = `crb-${connection}=${bucket}.${nonce.startsWith("A") ? "B" : "A"}${nonce.slice(1)}.${tag}`;
    for (const sent of [foreign, edited, renonced, `crb-${connection}=garbage`]) {
      const { logs } = await bounce(`connection=${connection}&fallback=auth0`, sent);
      expect(logs.find((l) => l["event"] === "callback")?.["fallbackMark"]).toBe("invalid");
    }
    expect((await stats()).counts).toMatchObject({ new: 1, fallback: 0 });
  });

  it("without AFFINITY_SECRET no mark is set and every bounce is unverified (fail closed)", async () => {
    const { setCookie } = await redirected(connection, {});
    expect(setCookie).toBeNull();
    const { result, logs } = await bounce(`connection=${connection}&fallback=auth0`, null, {});
    expect(result.status).toBe(200);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ fallbackMark: "not-configured" });
    expect((await stats()).counts).toMatchObject({ new: 1, fallback: 0 });
  });

  it('the "form" answer carries the mark too, and its bounce (a POST) counts', async () => {
    expect((await api("/settings", { method: "PUT", body: { redirect: "form" } })).status).toBe(200);
    const body = form({ SAMLResponse: "PHNhbWxwOlJlc3BvbnNlLz4=", RelayState: "r" });
    const page = await call(postForm(`/login/callback?connection=${connection}`, body), WITH_SECRET);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<form");
    const cookie = page.headers.get("set-cookie")?.split(";")[0] ?? null;
    expect(cookie).toMatch(new RegExp(`^crb-${connection}=`));
    const { result, logs } = await captureLogs(() =>
      call(
        postForm(`/login/callback?connection=${connection}&fallback=auth0`, body, { cookie: cookie ?? "" }),
        WITH_SECRET,
      ),
    );
    expect((await received(result)).bodyText).toBe(body);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ fallbackMark: "valid" });
    expect((await stats()).counts).toMatchObject({ new: 1, fallback: 1 });
  });

  it("the same mark replayed 40 times counts one verified bounce; the rest are fallback-unverified", async () => {
    const { cookie } = await redirected();
    const ids = new Set<unknown>();
    for (let i = 0; i < 40; i++) {
      const { result, logs } = await bounce(`connection=${connection}&code=c${i}&state=s&fallback=auth0`, cookie);
      // Routing is unchanged: every one reaches Auth0 with fallback removed.
      expect(result.status).toBe(200);
      expect((await received(result)).url).toBe(`/login/callback?connection=${connection}&code=c${i}&state=s`);
      const line = logs.find((l) => l["event"] === "callback") ?? {};
      // The signature is valid each time; the log carries the mark's id (a hash), never the cookie.
      expect(line).toMatchObject({ fallbackMark: "valid", fallbackMarkId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      expect(JSON.stringify(logs)).not.toContain(cookie?.split("=")[1] ?? "no cookie");
      ids.add(line["fallbackMarkId"]);
    }
    expect(ids.size).toBe(1);
    const after = await stats();
    expect(after.counts).toMatchObject({ logins: 1, new: 1, fallback: 1, errors: 0 });
    expect(after.lastSeen?.kind).toBe("fallback-unverified");
  }, 60_000);

  it("two real hand-offs, each bounced with its own mark, count two bounces", async () => {
    for (let i = 0; i < 2; i++) {
      const { cookie } = await redirected();
      const { logs } = await bounce(`connection=${connection}&fallback=auth0`, cookie);
      expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ fallbackMark: "valid" });
    }
    expect((await stats()).counts).toMatchObject({ logins: 2, new: 2, fallback: 2 });
  });

  it("a spent mark stays spent across a restart of the counter Durable Object that holds it", async () => {
    const { cookie } = await redirected();
    const first = await bounce(`connection=${connection}&fallback=auth0`, cookie);
    const line = first.logs.find((l) => l["event"] === "callback") as unknown as CallbackLog;
    expect((await stats()).counts).toMatchObject({ new: 1, fallback: 1 });
    const { markId, ...outcome } = outcomeOf(line);
    if (markId === undefined) throw new Error("a valid bounce without a mark id");
    // The shard that owns the id, restarted: a new instance over the same storage (memory gone, SQLite kept).
    const shard = env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(markShard(markId, 8))));
    await runInDurableObject(shard, async (_instance, state) => {
      await new TrafficCounter(state, env).spendBounces([{ markId, at: Date.now(), outcome }]);
    });
    const after = await stats();
    expect(after.counts).toMatchObject({ new: 1, fallback: 1 });
    expect(after.lastSeen?.kind).toBe("fallback-unverified");
  });
});
