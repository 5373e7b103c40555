import { env } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import type { AutopilotEvent } from "../src/autopilot/events";
import { notify } from "../src/autopilot/notify";
import type { Env } from "../src/env";
import { captureLogs } from "./support/worker";

const STAND_IN = inject("webhookStandInUrl");
let keys = 0;
/** A fresh stand-in key per test: its own record of what arrived. */
const hook = (mode: "ok" | "500" | "redirect" | "slow") => {
  const key = `notify-${++keys}-${Math.random().toString(36).slice(2, 8)}`;
  return { key, url: `${STAND_IN}/hook/${key}/${mode}` };
};
const envWith = (url: string | undefined): Env => ({ ...env, AUTOPILOT_WEBHOOK_URL: url }) as Env;
const received = async (key: string) =>
  (await (await fetch(`${STAND_IN}/__stand-in/requests?key=${key}`)).json()) as Array<{
    path: string;
    contentType: string | null;
    body: string;
  }>;

const ROLLBACK: AutopilotEvent = {
  kind: "rolled-back",
  planId: "plan_7Q2",
  wave: 1,
  waveName: "first five",
  connection: "acme-saml",
  reason: "the provider failed 9 of 12 logins (0.75 > 0.05)",
  numbers: {
    logins: 12,
    fallback: 1,
    fallbackShare: 1 / 12,
    errors: 0,
    errorShare: 0,
    alarms: ["fallback-share-high"],
    outcome: { succeeded: 3, failed: 9, source: "workos-events" },
  },
  actor: "autopilot:plan_7Q2",
  at: "2026-12-07T15:04:05.000Z",
};

const HALT: AutopilotEvent = {
  kind: "halted",
  planId: "plan_7Q2",
  wave: 1,
  reason: "2 rollbacks in wave 2 (the plan halts after 2)",
  actor: "autopilot:plan_7Q2",
  at: "2026-12-07T15:04:06.000Z",
};

describe("notify: posts Slack-compatible JSON to AUTOPILOT_WEBHOOK_URL", () => {
  it("posts a rollback as { text, blocks } with the decision's numbers, and logs nothing when it is taken", async () => {
    const { key, url } = hook("ok");
    const { logs } = await captureLogs(() => notify(envWith(url), ROLLBACK));
    expect(logs).toEqual([]);
    const [post, ...more] = await received(key);
    expect(more).toEqual([]);
    expect(post?.contentType).toBe("application/json; charset=utf-8");
    expect(JSON.parse(post?.body ?? "")).toEqual({
      text: "Autopilot plan plan_7Q2, wave 2 (first five): rolled back acme-saml: the provider failed 9 of 12 logins (0.75 > 0.05)",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "*Rolled back* `acme-saml` · plan `plan_7Q2` · wave 2 (first five)\nthe provider failed 9 of 12 logins (0.75 &gt; 0.05)",
          },
        },
        {
          type: "section",
          fields: [
            { type: "mrkdwn", text: "*Logins*\n12" },
            { type: "mrkdwn", text: "*Fallback*\n1 (8.3 %)" },
            { type: "mrkdwn", text: "*Errors*\n0 (0.0 %)" },
            { type: "mrkdwn", text: "*Provider outcome*\n3 succeeded, 9 failed (workos-events)" },
            { type: "mrkdwn", text: "*Alarms*\nfallback-share-high" },
          ],
        },
        { type: "context", elements: [{ type: "mrkdwn", text: "by autopilot:plan_7Q2 at 2026-12-07T15:04:05.000Z" }] },
      ],
    });
  });

  it("says 'no source' for a gate without the provider's outcome, and posts a plan-wide halt without numbers", async () => {
    const { key, url } = hook("ok");
    const noSource: AutopilotEvent = {
      ...ROLLBACK,
      kind: "promoted",
      reason: "soaked 10 min, 40 logins, no gate breached",
      numbers: { ...ROLLBACK.numbers!, outcome: { source: "no source", reason: "no providerConnectionId" } },
    };
    await notify(envWith(url), noSource);
    await notify(envWith(url), HALT);
    const [promoted, halted] = (await received(key)).map(
      (p) => JSON.parse(p.body) as { text: string; blocks: unknown[] },
    );
    expect(promoted?.blocks[1]).toMatchObject({
      fields: expect.arrayContaining([
        { type: "mrkdwn", text: "*Provider outcome*\nno source: no providerConnectionId" },
      ]),
    });
    expect(halted).toEqual({
      text: "Autopilot plan plan_7Q2, wave 2: halted: 2 rollbacks in wave 2 (the plan halts after 2)",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "*Halted* · plan `plan_7Q2` · wave 2\n2 rollbacks in wave 2 (the plan halts after 2)",
          },
        },
        { type: "context", elements: [{ type: "mrkdwn", text: "by autopilot:plan_7Q2 at 2026-12-07T15:04:06.000Z" }] },
      ],
    });
  });

  it("escapes Slack's control characters, so a name or reason cannot make a link or a mention", async () => {
    const { key, url } = hook("ok");
    await notify(envWith(url), { ...HALT, reason: "<!channel> see <https://evil.example|this> & that" });
    const [post] = await received(key);
    const section = (JSON.parse(post?.body ?? "") as { blocks: Array<{ text?: { text: string } }> }).blocks[0];
    expect(section?.text?.text).toContain("&lt;!channel&gt; see &lt;https://evil.example|this&gt; &amp; that");
    expect(section?.text?.text).not.toMatch(/<!channel>|<https/);
  });

  it("without AUTOPILOT_WEBHOOK_URL posts nothing and logs nothing", async () => {
    const { logs } = await captureLogs(() => notify(envWith(undefined), ROLLBACK));
    expect(logs).toEqual([]);
  });
});

describe("notify: a delivery that fails is logged once and never thrown", () => {
  const failures = async (url: string, timeoutMs?: number) => {
    const { logs } = await captureLogs(() =>
      notify(envWith(url), ROLLBACK, timeoutMs === undefined ? {} : { timeoutMs }),
    );
    expect(logs).toHaveLength(1);
    const [line] = logs;
    // The URL's path is the webhook's credential: only the host is ever logged.
    expect(JSON.stringify(line)).not.toContain("/hook/");
    return line;
  };

  it("a 500 is logged with the host and status", async () => {
    const { key, url } = hook("500");
    expect(await failures(url)).toMatchObject({
      event: "autopilot-notify",
      outcome: "failed",
      kind: "rolled-back",
      planId: "plan_7Q2",
      host: new URL(STAND_IN).host,
      status: 500,
      problem: "the webhook answered 500",
    });
    expect(await received(key)).toHaveLength(1);
  });

  it("a webhook that does not answer is given up after the timeout", async () => {
    const { url } = hook("slow");
    const started = Date.now();
    expect(await failures(url, 300)).toMatchObject({
      host: new URL(STAND_IN).host,
      problem: "the webhook did not answer within 300 ms",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a refused connection is logged without the path", async () => {
    const url = `http://127.0.0.1:${inject("closedPort")}/services/T000/B000/SECRETPATH`;
    const line = await failures(url);
    expect(line).toMatchObject({ host: `127.0.0.1:${inject("closedPort")}` });
    expect(String(line?.["problem"])).toMatch(/^the webhook could not be reached: /);
    expect(JSON.stringify(line)).not.toContain("SECRETPATH");
  });

  it("a redirect is not followed: it is a failed delivery", async () => {
    const { url } = hook("redirect");
    expect(await failures(url)).toMatchObject({ status: 302, problem: "the webhook answered 302" });
  });

  it("a URL that is not https is refused before anything is sent, naming the variable and no host", async () => {
    const line = await failures("http://hooks.example.com/services/T000/B000/SECRETPATH");
    expect(line).toMatchObject({
      problem: "AUTOPILOT_WEBHOOK_URL must be https (http is allowed only for localhost)",
    });
    expect(line).not.toHaveProperty("host");
    expect(JSON.stringify(line)).not.toContain("SECRETPATH");
  });
});
