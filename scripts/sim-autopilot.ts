/**
 * `npm run sim:autopilot`: a simulated migration of 30 connections by the autopilot, on
 * loopback, in about a minute (scripts/sim/run.ts): waves of 1, 5 and 24; the new provider
 * bounces every login of 2 connections and fails every login of 1; the Workers are restarted
 * mid-plan. Prints each decision with its numbers, the login tally, and last
 * `autopilot: <promoted> promoted, <rolled back> rolled back, <halted> halted, <lost> logins lost`.
 * Exits 1 when the run broke an expectation (each is printed before the last line).
 */
import { FULL_SIMULATION, runSimulation } from "./sim/run";

const result = await runSimulation({ ...FULL_SIMULATION, log: (line) => console.log(line) });
let sent = 0;
let toAuth0 = 0;
let atProvider = 0;
let bounced = 0;
let notDelivered = 0;
let auth0Started = 0;
for (const t of result.tally.values()) {
  sent += t.sent;
  toAuth0 += t.servedByAuth0;
  atProvider += t.servedByProvider;
  bounced += t.bounced;
  notDelivered += t.notDelivered;
  auth0Started += t.auth0Started;
}
console.log(
  `logins: ${sent} sent (${auth0Started} started by Auth0), ${atProvider} served by the new provider, ${toAuth0} by Auth0 (${bounced} after a bounce), ${notDelivered} not delivered during the restart; ${(result.durationMs / 1000).toFixed(1)} s`,
);
if (result.restarted !== null) {
  console.log(
    `restart at wave ${(result.restarted.atWave ?? 0) + 1}: ${result.restarted.decisionsBefore} decisions before, ${result.restarted.decisionsAfter} after`,
  );
}
console.log(`audit trail of the failing connection (oldest first):`);
for (const line of result.failingAudit) console.log(`  ${line}`);
for (const problem of result.problems) console.log(`problem: ${problem}`);
console.log(result.summary);
process.exitCode = result.problems.length === 0 ? 0 : 1;
