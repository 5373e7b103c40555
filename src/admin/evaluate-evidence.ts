/**
 * GET /evaluate with evidence (issue #20, part 4): the router's answer for an OIDC connection
 * is the worst of its usual callback shapes, so under `unknown: auth0` it is `auth0` whenever
 * its IdP *may* omit `iss`. When the callbacks it really sent in the last 7 days all carried
 * `iss` or an `id_token` (src/stats/readiness.ts: ready, and no recorded shape without
 * them), the answer becomes that of those shapes — `new` — and says why. With no evidence, or
 * any recorded callback without `iss`, today's safe answer stays.
 */
import type { Evaluation } from "../callback/evaluate";
import type { Env } from "../env";
import { writerOf } from "../writer";
import { readinessOfRoutes } from "./evidence-read";

const CARRIES_ISSUER = new Set(["oidc-code-with-iss", "oidc-form-post"]);

/** `evaluation` (a connection's, from the router) answered from the evidence where it allows. */
export async function withEvidence(env: Env, evaluation: Evaluation): Promise<Evaluation> {
  const connection = evaluation.connection;
  if (connection === null || evaluation.destination !== "auth0" || evaluation.callbacks === undefined)
    return evaluation;
  // Only the OIDC answer that is auth0 because a shape without iss would be unidentified.
  const worst = evaluation.callbacks.find((c) => c.usual && c.destination === "auth0");
  if (worst?.shape !== "oidc-code-without-iss" || worst.identifiedBy !== "none") return evaluation;
  const issuerShapes = evaluation.callbacks.filter((c) => CARRIES_ISSUER.has(c.shape));
  if (issuerShapes.length === 0 || issuerShapes.some((c) => c.destination !== "new")) return evaluation;
  const route = await writerOf(env).getRoute(connection);
  if (route === null) return evaluation;
  const readiness = (await readinessOfRoutes(env, [route])).get(connection);
  if (readiness === undefined || readiness.verdict !== "ready") return evaluation;
  if (readiness.shapes.some((s) => !CARRIES_ISSUER.has(s.shape))) return evaluation;
  const [answer] = issuerShapes;
  if (answer === undefined) return evaluation;
  const settings = (await writerOf(env).getSettings()).settings;
  const target = route.target ?? settings.defaultTarget ?? undefined;
  if (target === undefined || target === null) return evaluation;
  return {
    ...evaluation,
    destination: "new",
    reason: answer.reason,
    target,
    explanation: `evidence: ${readiness.summary} — every recorded callback carried iss or an id_token, so its logins are identified and go to the new provider; without that evidence the answer would be ${evaluation.destination} (${evaluation.reason}), the worst case of an OIDC GET without iss`,
  };
}
