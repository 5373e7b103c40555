/**
 * Posts an autopilot event to the operators' chat: one `POST` of Slack-compatible JSON
 * (`{ text, blocks }`, Slack's incoming-webhook payload: api.slack.com/messaging/webhooks;
 * `text` is the notification's fallback, `blocks` the Block Kit layout: a section, a
 * section of fields with the decision's numbers, and a context line) to
 * AUTOPILOT_WEBHOOK_URL (src/config/webhook.ts).
 *
 * Delivery never blocks the plan: `notify` never throws, waits at most `timeoutMs`, does
 * not follow redirects, and logs a failed delivery as one `autopilot-notify` JSON line
 * with the webhook's host only (the URL's path is its credential).
 */
import { webhookConfigFor } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import type { AutopilotEvent, AutopilotEventKind, AutopilotNumbers } from "./events";

export interface NotifyOptions {
  /** The whole delivery (connect, send, answer), in ms. */
  timeoutMs: number;
}

export const DEFAULT_NOTIFY_OPTIONS: NotifyOptions = { timeoutMs: 5_000 };

/** Slack's limit on a section's text (3,000 characters) and on a field's (2,000). */
const SECTION_TEXT_MAX = 3_000;
const FIELD_TEXT_MAX = 2_000;

const TITLES: Record<AutopilotEventKind, string> = {
  promoted: "Promoted",
  "rolled-back": "Rolled back",
  halted: "Halted",
  paused: "Paused",
  resumed: "Resumed",
  aborted: "Aborted",
  finished: "Finished",
};

/** Sends `event` to the configured webhook; without one, does nothing. Never throws. */
export async function notify(env: Env, event: AutopilotEvent, options: Partial<NotifyOptions> = {}): Promise<void> {
  const { timeoutMs } = { ...DEFAULT_NOTIFY_OPTIONS, ...options };
  const started = Date.now();
  const failed = (problem: string, extra: { host?: string; status?: number } = {}) =>
    log({
      event: "autopilot-notify",
      outcome: "failed",
      kind: String(event.kind).slice(0, 40),
      planId: String(event.planId).slice(0, 200),
      ...extra,
      problem,
      durationMs: Date.now() - started,
    });
  try {
    const config = webhookConfigFor(env);
    if (!config.ok) {
      failed(`${config.variable} ${config.reason}`);
      return;
    }
    if (config.url === null) return;
    const url = config.url;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify(webhookPayload(event)),
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      failed(unreachable(err, url, timeoutMs), { host: url.host });
      return;
    }
    await response.body?.cancel();
    if (response.status < 200 || response.status > 299) {
      failed(`the webhook answered ${response.status}`, { host: url.host, status: response.status });
    }
  } catch (err) {
    failed(`unexpected: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`);
  }
}

/** Slack Block Kit object (the subset used here). */
type Block =
  | { type: "section"; text: { type: "mrkdwn"; text: string } }
  | { type: "section"; fields: Array<{ type: "mrkdwn"; text: string }> }
  | { type: "context"; elements: Array<{ type: "mrkdwn"; text: string }> };

/** The JSON posted for `event`: `text` (plain, one line) and `blocks` (what Slack shows). */
export function webhookPayload(event: AutopilotEvent): { text: string; blocks: Block[] } {
  const title = TITLES[event.kind] ?? event.kind;
  const subject = event.connection === undefined ? "" : ` ${event.connection}`;
  const wave =
    event.wave === null ? "" : `, wave ${event.wave + 1}${event.waveName === undefined ? "" : ` (${event.waveName})`}`;
  const text = `Autopilot plan ${event.planId}${wave}: ${title.toLowerCase()}${subject}: ${event.reason}`;
  const headline =
    `*${title}*` +
    (event.connection === undefined ? "" : ` \`${escape(event.connection)}\``) +
    ` · plan \`${escape(event.planId)}\`` +
    escape(wave.replace(/^, /, " · "));
  const blocks: Block[] = [
    { type: "section", text: { type: "mrkdwn", text: cut(`${headline}\n${escape(event.reason)}`, SECTION_TEXT_MAX) } },
  ];
  if (event.numbers !== undefined) blocks.push({ type: "section", fields: numberFields(event.numbers) });
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: cut(`by ${escape(event.actor)} at ${escape(event.at)}`, FIELD_TEXT_MAX) }],
  });
  return { text: cut(text, SECTION_TEXT_MAX), blocks };
}

/** At most 10 fields (Slack's limit): logins, fallback, errors, the provider's outcome, alarms. */
function numberFields(n: AutopilotNumbers): Array<{ type: "mrkdwn"; text: string }> {
  const outcome =
    "reason" in n.outcome
      ? `no source: ${escape(n.outcome.reason)}`
      : `${n.outcome.succeeded} succeeded, ${n.outcome.failed} failed (${escape(n.outcome.source)})`;
  return [
    ["Logins", String(n.logins)],
    ["Fallback", `${n.fallback} (${percent(n.fallbackShare)})`],
    ["Errors", `${n.errors} (${percent(n.errorShare)})`],
    ["Provider outcome", outcome],
    ["Alarms", n.alarms.length === 0 ? "none" : escape(n.alarms.join(", "))],
  ].map(([label, value]) => ({ type: "mrkdwn" as const, text: cut(`*${label}*\n${value}`, FIELD_TEXT_MAX) }));
}

function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)} %` : "n/a";
}

/** Slack's mrkdwn control characters (&, <, >) as entities, so a name cannot make a link or mention. */
function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Why the webhook could not be reached, without the URL (its path is the credential). */
function unreachable(err: unknown, url: URL, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `the webhook did not answer within ${timeoutMs} ms`;
  }
  const message = err instanceof Error ? err.message : "network error";
  let redacted = message.split(url.href).join(url.host);
  if (url.pathname.length > 1) redacted = redacted.split(url.pathname).join("/…");
  return `the webhook could not be reached: ${redacted.slice(0, 200)}`;
}
