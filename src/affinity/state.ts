/**
 * Whether transaction affinity is working, as /status, /evaluate and the
 * dashboard say it: it needs AFFINITY_SECRET (configuration) and is switched
 * off at run time by `settings.affinity = "off"`.
 */

export type AffinityState =
  /** Login starts are recorded and their callbacks go back to Auth0. */
  | "on"
  /** AFFINITY_SECRET is set, but settings.affinity is "off". */
  | "off"
  /** AFFINITY_SECRET is not set: nothing is recorded, whatever the settings say. */
  | "not-configured";

export function affinityState(configured: boolean, setting: "on" | "off" | undefined): AffinityState {
  if (!configured) return "not-configured";
  return setting === "off" ? "off" : "on";
}

export const AFFINITY_STATE_DESCRIPTION =
  'Transaction affinity: "on" (Auth0-started logins finish at Auth0), "off" (settings.affinity), "not-configured" (no AFFINITY_SECRET)';
