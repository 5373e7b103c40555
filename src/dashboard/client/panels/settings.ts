/**
 * Mode banner, kill switch and the rollout flag: all from GET /settings, changed with PUT.
 * The kill switch is its own setting beside the mode: the switch sends only
 * `killSwitch: { on }`, so turning it off gives back the mode as it was (never "route").
 */
import type { Rollout, Settings } from "../../../table/schema";
import { IDS } from "../../ids";
import type { Ctx } from "../context";
import { byId, control, showError } from "../dom";

/** The rollout form: the ETag and values it was filled from, and whether it was edited since. */
const form = { etag: null as string | null, loaded: "", dirty: false };
let current: Pick<Settings, "mode" | "killSwitch"> | null = null;

export async function loadSettings(ctx: Ctx): Promise<void> {
  const answer = await ctx.api.call<Settings>("GET", "/settings");
  if (answer.ok) return applySettings(answer.data, answer.etag);
  byId(IDS.modeText).textContent = `Settings unavailable: ${answer.detail}`;
  showError(IDS.rolloutError, `Settings unavailable: ${answer.detail}`);
}

function applySettings(settings: Settings, etag: string | null): void {
  const { mode, killSwitch } = settings;
  current = { mode, killSwitch };
  const on = killSwitch.on;
  const modeName = mode === "shadow" ? "shadow mode" : "route mode";
  byId(IDS.killSwitch).setAttribute("aria-checked", String(on));
  byId(IDS.killState).textContent = on ? "ON" : "OFF";
  const banner = byId(IDS.modeBanner);
  banner.setAttribute("class", `mode ${on ? "mode-kill-switch" : `mode-${mode}`}`);
  banner.textContent = on
    ? `Kill switch ON: every callback goes to Auth0 (${modeName} when off)`
    : mode === "shadow"
      ? "Shadow mode: decisions are only logged, every callback goes to Auth0"
      : "Routing: callbacks follow the route table";
  const since = killSwitch.since === undefined ? "" : ` since ${new Date(killSwitch.since).toLocaleString()}`;
  const by = killSwitch.by === undefined ? "" : ` by ${killSwitch.by}`;
  byId(IDS.modeText).textContent = on
    ? `ON${since}${by}: every /login/callback goes to Auth0, whatever the route table says. Off gives back ${modeName}.`
    : `Callbacks follow the route table${mode === "shadow" ? " in shadow mode (logged, still sent to Auth0)" : ""}. Turn this on to send every callback to Auth0 at once; off again gives back ${modeName}.`;
  const loaded = JSON.stringify(settings.rollout);
  if (!form.dirty) {
    control(IDS.percentage).value = String(settings.rollout.percentage);
    control(IDS.include).value = settings.rollout.include.join(", ");
    control(IDS.exclude).value = settings.rollout.exclude.join(", ");
    form.loaded = loaded;
  }
  // Unsaved edits keep their ETag unless only other settings changed (they still apply as meant).
  if (!form.dirty || loaded === form.loaded) form.etag = etag;
  showRetired(settings.auth0 === "retired");
}

/**
 * Auth0 retired (docs/retirement.md): the banner says so, and the kill switch is disabled —
 * there is no Auth0 to send callbacks to (the API refuses it with 409 all the same).
 */
function showRetired(retired: boolean): void {
  const kill = byId(IDS.killSwitch);
  if (retired) kill.setAttribute("disabled", "");
  else kill.removeAttribute("disabled");
  if (!retired) return;
  const banner = byId(IDS.modeBanner);
  banner.setAttribute("class", "mode mode-retired");
  banner.textContent = "Auth0 retired: nothing is forwarded to Auth0; every callback goes to the new provider";
  byId(IDS.modeText).textContent =
    "Auth0 is retired, so the kill switch has nothing to send callbacks to: it is off and cannot be turned on. A bounce from the new provider gets the contact page.";
}

async function toggleKillSwitch(ctx: Ctx): Promise<void> {
  if (current === null) return ctx.say("The kill switch's state is not known yet; press Refresh first.", true);
  const turnOn = !current.killSwitch.on;
  const mode = current.mode;
  const after =
    mode === "shadow"
      ? "Shadow mode applies again: decisions are logged, every callback still goes to Auth0"
      : "Callbacks will follow the route table again (route mode)";
  const question = turnOn
    ? "Turn the kill switch ON?\n\nEvery /login/callback will go to Auth0, whatever the route table says (all locations within about 60 s)."
    : `Turn the kill switch OFF?\n\n${after} (all locations within about 60 s).`;
  if (!confirm(question)) return ctx.say(`Kill switch unchanged: ${turnOn ? "OFF" : "ON"}.`);
  // Only the kill switch: the mode stays whatever it is.
  const answer = await ctx.api.call<Settings>("PUT", "/settings", { killSwitch: { on: turnOn } });
  if (!answer.ok) return ctx.say(`The kill switch was not changed: ${answer.detail}`, true);
  applySettings(answer.data, answer.etag);
  ctx.say(
    turnOn
      ? "Kill switch ON: every callback goes to Auth0."
      : `Kill switch OFF: ${answer.data.mode === "shadow" ? "shadow mode (every callback still goes to Auth0)" : "callbacks follow the route table"}.`,
  );
  ctx.changed();
}

function listOf(id: string): string[] {
  return control(id)
    .value.split(",")
    .flatMap((item) => (item.trim() === "" ? [] : [item.trim()]));
}

function refused(ctx: Ctx, message: string): void {
  showError(IDS.rolloutError, message);
  ctx.say(message, true);
}

async function saveRollout(ctx: Ctx): Promise<void> {
  const field = control(IDS.percentage);
  const percentage = Number(field.value);
  if (field.value.trim() === "" || !(percentage >= 0 && percentage <= 100)) {
    refused(ctx, "Rollout not saved: the percentage must be a number from 0 to 100.");
    return field.focus();
  }
  const body: Rollout = { percentage, include: listOf(IDS.include), exclude: listOf(IDS.exclude) };
  const answer = await ctx.api.call<Rollout>("PUT", "/rollout", body, form.etag);
  if (!answer.ok && answer.status !== 412) return refused(ctx, `Rollout not saved: ${answer.detail}`);
  form.dirty = false;
  await loadSettings(ctx);
  if (!answer.ok) return refused(ctx, `Rollout not saved: ${answer.detail}. The form shows the current values now.`);
  showError(IDS.rolloutError, "");
  const { include, exclude } = answer.data;
  ctx.say(
    `Rollout saved: ${answer.data.percentage}% of organizations; always new: ${include.join(", ") || "none"}; never: ${exclude.join(", ") || "none"}.`,
  );
  ctx.changed();
}

export function setUpSettings(ctx: Ctx): void {
  byId(IDS.killSwitch).addEventListener("click", () => void toggleKillSwitch(ctx));
  byId(IDS.rolloutForm).addEventListener("input", () => void (form.dirty = true));
  byId(IDS.rolloutForm).addEventListener("submit", (event) => {
    event.preventDefault();
    void saveRollout(ctx);
  });
}

export function forgetSettings(): void {
  current = null;
  form.dirty = false;
}
