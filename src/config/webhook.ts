/** Where the autopilot posts its notifications: AUTOPILOT_WEBHOOK_URL (a secret; optional). */
import type { EnvVars } from "../env";
import { oncePerEnv } from "./once-per-env";
import { checkUrl, textVar } from "./read";
import { environmentOf } from "./router";

export type WebhookConfigResult =
  /** url null: no webhook configured (notifications are off). */
  { ok: true; url: URL | null } | { ok: false; variable: "AUTOPILOT_WEBHOOK_URL"; reason: string };

/**
 * AUTOPILOT_WEBHOOK_URL: an incoming-webhook URL that takes Slack's `{ text, blocks }` JSON
 * (Slack, Mattermost, Rocket.Chat, a relay). Its path is the credential, so it is a secret.
 * https only (http for loopback in development), no credentials in the URL (config/read.ts).
 */
export function parseWebhookConfig(env: EnvVars): WebhookConfigResult {
  const raw = textVar(env, "AUTOPILOT_WEBHOOK_URL");
  if (raw === undefined) return { ok: true, url: null };
  const checked = checkUrl(raw, environmentOf(env));
  if (!checked.ok) return { ok: false, variable: "AUTOPILOT_WEBHOOK_URL", reason: checked.reason };
  return { ok: true, url: checked.url };
}

export const webhookConfigFor: (env: EnvVars) => WebhookConfigResult = oncePerEnv(parseWebhookConfig);
