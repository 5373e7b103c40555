/**
 * The dashboard's browser entry (bundled by scripts/build-dashboard.ts): sign-in, the
 * overview's panels, one connection's view (#connection/{name}), the time range and the
 * periodic refresh. Everything it shows comes from the management API.
 */
import { IDS } from "../ids";
import { Api } from "./api";
import { closeConnection, openConnection, shownConnection } from "./connection";
import type { Ctx } from "./context";
import { byId, control, showError } from "./dom";
import { loadAudit } from "./panels/audit";
import { loadAutopilot } from "./panels/autopilot";
import { loadProgress } from "./panels/progress";
import { filterRoutes, forgetRoutes, loadRoutes } from "./panels/routes";
import { forgetSettings, loadSettings, setUpSettings } from "./panels/settings";
import { loadTraffic } from "./panels/traffic";
import { currentRange, setUpRange } from "./range";

interface ClientConfig {
  /** Where the management API is, e.g. /__router/v1. */
  api: string;
  /** How often counters, mode and audit log are re-read while signed in. */
  refreshMs: number;
}

const TOKEN_KEY = "callback-router.dashboard.token";
const config = JSON.parse(byId(IDS.config).textContent ?? "{}") as ClientConfig;
const api = new Api(config.api, (detail) => signOut(detail));
const ctx: Ctx = { api, say, range: currentRange, changed: () => void afterChange() };
let timer: number | undefined;
let refreshing = false;

function say(message: string, failed = false): void {
  const status = byId(IDS.status);
  status.textContent = message;
  status.classList.toggle("error", failed);
}

async function signIn(candidate: string): Promise<void> {
  api.token = candidate;
  showError(IDS.signInError, "");
  const check = await api.call<unknown>("GET", "/status");
  if (!check.ok) return signOut(check.detail);
  sessionStorage.setItem(TOKEN_KEY, candidate);
  byId(IDS.signIn).hidden = true;
  for (const id of [IDS.dashboard, IDS.sessionBar, IDS.modeBanner]) byId(id).hidden = false;
  timer = window.setInterval(() => void refresh(), config.refreshMs);
  const opening = showView(false);
  // Focus for screen readers, without scrolling the sticky header's mode pill off the top.
  if (shownConnection() === null) byId(IDS.main).focus({ preventScroll: true });
  await Promise.all([loadAll(false), opening]);
}

/** Back to the sign-in form, with none of the data left in the page. */
function signOut(detail = ""): void {
  api.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  window.clearInterval(timer);
  forgetRoutes();
  forgetSettings();
  closeConnection();
  const lists = [
    IDS.routesBody,
    IDS.trafficBody,
    IDS.auditBody,
    IDS.flaggedList,
    IDS.status,
    IDS.autopilotBody,
    IDS.autopilotTimeline,
    IDS.autopilotText,
    IDS.autopilotTotals,
  ];
  for (const id of lists) byId(id).replaceChildren();
  for (const id of [IDS.dashboard, IDS.sessionBar, IDS.modeBanner]) byId(id).hidden = true;
  byId(IDS.signIn).hidden = false;
  showError(IDS.signInError, detail);
  control(IDS.token).value = "";
  control(IDS.token).focus();
}

async function loadAll(announce: boolean): Promise<void> {
  await Promise.all([
    loadProgress(ctx),
    loadSettings(ctx),
    loadRoutes(ctx),
    loadTraffic(ctx),
    loadAudit(ctx),
    loadAutopilot(ctx),
  ]);
  stamp(announce);
}

/** The periodic refresh: all but the route table (and an edited rollout form). */
async function refresh(): Promise<void> {
  if (refreshing || api.token === null) return;
  refreshing = true;
  try {
    await Promise.all([
      loadProgress(ctx),
      loadSettings(ctx),
      loadTraffic(ctx),
      loadAudit(ctx),
      loadAutopilot(ctx),
      reloadConnection(),
    ]);
    stamp(false);
  } finally {
    refreshing = false;
  }
}

/** After a saved change: the counts, the traffic table, the audit log and the open view show it. */
async function afterChange(): Promise<void> {
  await Promise.all([loadProgress(ctx), loadTraffic(ctx), loadAudit(ctx), loadAutopilot(ctx), reloadConnection()]);
}

function reloadConnection(): Promise<void> {
  const open = shownConnection();
  return open === null ? Promise.resolve() : openConnection(ctx, open, false);
}

function stamp(announce: boolean): void {
  if (api.token === null) return;
  const at = new Date().toLocaleTimeString("en-GB", { timeZoneName: "short" });
  byId(IDS.updated).textContent = `Updated ${at}`;
  if (announce) say(`Reloaded at ${at}.`);
}

/** The location's view: #connection/{name}, else the overview (scrolled to the hash's section). */
function showView(focus: boolean): Promise<void> {
  const match = /^#connection\/(.+)$/.exec(window.location.hash);
  const connection = match?.[1] === undefined ? null : decodeURIComponent(match[1]);
  byId(IDS.overview).hidden = connection !== null;
  byId(IDS.connectionView).hidden = connection === null;
  if (connection === null) {
    closeConnection();
    const target = window.location.hash.length > 1 ? document.getElementById(window.location.hash.slice(1)) : null;
    target?.scrollIntoView();
    return Promise.resolve();
  }
  document.title = `${connection} · Migration dashboard · callback-router`;
  return openConnection(ctx, connection, focus);
}

/**
 * The sticky header's height as --header-h (it wraps on narrow screens): the status line
 * sticks below it, and in-page links scroll their section to just below it.
 */
function trackHeaderHeight(): void {
  const header = document.querySelector<HTMLElement>("header.top");
  if (header === null) return;
  const set = (): void =>
    document.documentElement.style.setProperty("--header-h", `${Math.ceil(header.getBoundingClientRect().height)}px`);
  new ResizeObserver(set).observe(header);
  set();
}

function start(): void {
  trackHeaderHeight();
  byId(IDS.signInForm).addEventListener("submit", (event) => {
    event.preventDefault();
    const candidate = control(IDS.token).value.trim();
    if (candidate === "") return showError(IDS.signInError, "Enter the token or JWT.");
    void signIn(candidate);
  });
  byId(IDS.signOut).addEventListener("click", () => signOut());
  byId(IDS.refresh).addEventListener("click", () => void Promise.all([loadAll(true), reloadConnection()]));
  byId(IDS.search).addEventListener("input", () => filterRoutes());
  setUpSettings(ctx);
  setUpRange(() => void Promise.all([loadTraffic(ctx), reloadConnection()]));
  window.addEventListener("hashchange", () => {
    if (api.token === null) return;
    if (shownConnection() === null) document.title = "Migration dashboard · callback-router";
    void showView(true).then(() => {
      if (shownConnection() === null) document.title = "Migration dashboard · callback-router";
    });
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved === null) signOut();
  else void signIn(saved);
}

start();
