/**
 * The health gates of a cut-over connection, judged on its numbers since its change (pure).
 * Order: no evidence, no judgement (fewer than `minLogins` logins sent to the new provider:
 * wait); then every gate — verified fallback share, error share, alarms, the new provider's own
 * failure share — any breach rolls back; then the soak time; then, if the plan asks, sign-ins
 * the new provider confirmed (`minProviderSucceeded`) and an outcome source. Only then promote.
 */
import type { AutopilotNumbers } from "./events";
import type { Gates } from "./plan";

export type Verdict =
  | { verdict: "wait"; reason: string }
  | { verdict: "soak"; reason: string }
  | { verdict: "rollback"; reason: string }
  | { verdict: "promote"; reason: string };

const pct = (share: number): string => `${(share * 100).toFixed(1)}%`;

/** The gates `numbers` breach, each as one sentence (empty: none). Judged only with enough logins. */
export function breaches(numbers: AutopilotNumbers, gates: Gates): string[] {
  const out: string[] = [];
  if (numbers.fallbackShare > gates.maxFallbackShare) {
    out.push(
      `fallback share ${pct(numbers.fallbackShare)} > ${pct(gates.maxFallbackShare)} (${numbers.fallback} of ${numbers.logins} logins bounced back, verified)`,
    );
  }
  if (numbers.errorShare > gates.maxErrorShare) {
    out.push(`error share ${pct(numbers.errorShare)} > ${pct(gates.maxErrorShare)} (${numbers.errors} 5xx answers)`);
  }
  if (gates.noAlarm && numbers.alarms.length > 0) out.push(`alarm: ${numbers.alarms.join(", ")}`);
  const outcome = numbers.outcome;
  if (gates.maxProviderFailureShare !== undefined && "failed" in outcome) {
    const seen = outcome.succeeded + outcome.failed;
    const share = seen === 0 ? 0 : outcome.failed / seen;
    if (share > gates.maxProviderFailureShare) {
      out.push(
        `new provider's failure share ${pct(share)} > ${pct(gates.maxProviderFailureShare)} (${outcome.failed} of ${seen} sign-ins failed there, ${outcome.source})`,
      );
    }
  }
  return out;
}

/** What to do with a connection whose change is `elapsedMs` old and must soak `soakMs`. */
export function judge(numbers: AutopilotNumbers, gates: Gates, elapsedMs: number, soakMs: number): Verdict {
  if (numbers.logins < gates.minLogins) {
    return { verdict: "wait", reason: `${numbers.logins} of ${gates.minLogins} logins needed before judging` };
  }
  const breached = breaches(numbers, gates);
  if (breached.length > 0) return { verdict: "rollback", reason: breached.join("; ") };
  if (elapsedMs < soakMs) {
    return { verdict: "soak", reason: `healthy so far; soaking ${Math.ceil((soakMs - elapsedMs) / 1000)} s more` };
  }
  if (gates.minProviderSucceeded !== undefined) {
    const needed = gates.minProviderSucceeded;
    if (!("succeeded" in numbers.outcome)) {
      return {
        verdict: "wait",
        reason: `no outcome source (${numbers.outcome.reason}); the plan needs ${needed} sign-ins confirmed by the new provider to promote`,
      };
    }
    if (numbers.outcome.succeeded < needed) {
      return {
        verdict: "wait",
        reason: `${numbers.outcome.succeeded} of ${needed} sign-ins confirmed by the new provider needed to promote`,
      };
    }
  }
  if (gates.requireProviderOutcome && numbers.outcome.source === "no source") {
    const why = "reason" in numbers.outcome ? numbers.outcome.reason : "";
    return { verdict: "wait", reason: `no outcome source (${why}); the plan requires one to promote` };
  }
  const outcome =
    "failed" in numbers.outcome
      ? `${numbers.outcome.succeeded} succeeded, ${numbers.outcome.failed} failed at the new provider`
      : "outcome: no source";
  return {
    verdict: "promote",
    reason: `${numbers.logins} logins, fallback ${pct(numbers.fallbackShare)}, errors ${pct(numbers.errorShare)}, no alarm, ${outcome}`,
  };
}
