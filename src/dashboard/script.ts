/**
 * The dashboard's one script: sign-in, then the management API's JSON rendered
 * into the server-rendered skeleton (page.tsx). No framework, no bundler.
 *
 * `dashboardClient` is sent to the browser as its source text (Function#toString),
 * so it must be self-contained:
 *   - it uses nothing from this module at run time; data comes in through `cfg`;
 *   - its helpers are methods of `ui` and its callbacks inline arrows: esbuild's
 *     keepNames (wrangler, the e2e bundle) wraps every `function f` and
 *     `const f = () => …` in a `__name()` helper that the browser does not have;
 *   - untrusted text goes only through textContent and setAttribute, never innerHTML.
 */
import type { ConnectionStats, Counts, Flag, StatsReport } from "../stats/report";
import type { Rollout, Route, RouteState, Settings } from "../table/schema";
import type { DomControl, DomDocument, DomElement, DomHtmlElement, DomNode, DomProgress } from "./dom";
import type { DomRequestInit, DomResponse, DomStorage } from "./dom";
import type { Ids } from "./ids";

// The browser's globals, for this module only (see dom.ts).
declare const document: DomDocument;
declare const sessionStorage: DomStorage;
declare function confirm(message: string): boolean;
declare function fetch(url: string, init: DomRequestInit): Promise<DomResponse>;
declare function setInterval(handler: () => void, ms: number): number;
declare function clearInterval(id: number | undefined): void;

export interface ClientConfig {
  /** Where the management API is, e.g. /__router/v1. */
  api: string;
  ids: Ids;
  /** How often counters, mode and audit log are re-read while signed in. */
  refreshMs: number;
}

type Answer<T> = { ok: true; data: T; etag: string | null } | { ok: false; status: number; detail: string };
type AuditEntry = {
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  before: unknown;
  after: unknown;
};
/** A rendered route: its row and the cells that change. */
type Row = { route: Route; tr: DomHtmlElement; select: DomControl; version: DomHtmlElement; updated: DomHtmlElement };

export function dashboardClient(cfg: ClientConfig): void {
  const ids = cfg.ids;
  const TOKEN_KEY = "callback-router.dashboard.token";
  const STATES: readonly RouteState[] = ["legacy", "migrated", "rollout"];
  const TOTALS = ["new", "auth0", "fallback", "unidentified", "errors"] as const;
  const EFFECT = { legacy: "go to Auth0", migrated: "go to the new provider", rollout: "follow the rollout flag" };
  const count = new Intl.NumberFormat("en");
  const percent = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });
  const rows = new Map<string, Row>();
  /** The rollout form: the ETag and values it was filled from, and whether it was edited since. */
  const rollout = { etag: null as string | null, loaded: "", dirty: false };
  let token = sessionStorage.getItem(TOKEN_KEY);
  let mode: Settings["mode"] | null = null;
  let timer: number | undefined;
  let refreshing = false;

  const ui = {
    // ---- DOM helpers ----------------------------------------------------------
    byId(id: string): DomHtmlElement {
      const found = document.getElementById(id);
      if (found === null) throw new Error(`dashboard: no #${id}`);
      return found;
    },
    /** The page renders these ids as form controls. */
    control(id: string): DomControl {
      return ui.byId(id) as DomControl;
    },
    /** An element with attributes and children; strings become text, never markup. */
    h(tag: string, attrs: Record<string, string> = {}, ...children: Array<DomNode | string>): DomHtmlElement {
      const node = document.createElement(tag);
      for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
      node.append(...children);
      return node;
    },
    svg(tag: string, attrs: Record<string, string>): DomElement {
      const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
      for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
      return node;
    },
    time(iso: string): DomHtmlElement {
      const local = new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
      return ui.h("time", { datetime: iso, title: iso }, local);
    },
    /** "1 callback", "2 callbacks". */
    many(n: number, noun: string): string {
      return `${count.format(n)} ${noun}${n === 1 ? "" : "s"}`;
    },
    /** The status region (aria-live): the result of the last action. */
    say(message: string, failed = false): void {
      const status = ui.byId(ids.status);
      status.textContent = message;
      status.classList.toggle("error", failed);
    },
    showError(id: string, message: string): void {
      const node = ui.byId(id);
      node.textContent = message;
      node.hidden = message === "";
    },
    /** A failed action: next to its form, and announced in the status region. */
    refused(id: string, message: string): void {
      ui.showError(id, message);
      ui.say(message, true);
    },

    // ---- the API ---------------------------------------------------------------
    /**
     * One call. A 401 (token expired or revoked) signs out with the problem's detail;
     * a 403 (e.g. a read-only token trying a change) is returned like any other
     * refusal, so a read-only operator keeps watching.
     */
    async call<T>(method: string, path: string, body?: unknown, ifMatch?: string | null): Promise<Answer<T>> {
      const headers: Record<string, string> = { accept: "application/json" };
      if (token !== null) headers["authorization"] = `Bearer ${token}`;
      if (ifMatch) headers["if-match"] = ifMatch;
      if (body !== undefined) headers["content-type"] = "application/json";
      const init: DomRequestInit = { method, headers, credentials: "omit", cache: "no-store" };
      if (body !== undefined) init.body = JSON.stringify(body);
      let res: DomResponse;
      let data: unknown = null;
      try {
        res = await fetch(cfg.api + path, init);
        const text = await res.text();
        if (text !== "") data = JSON.parse(text);
      } catch {
        return { ok: false, status: 0, detail: "The router did not answer with JSON (network problem?). Try again." };
      }
      if (res.status >= 200 && res.status < 300) return { ok: true, data: data as T, etag: res.headers.get("etag") };
      const problem = (data ?? {}) as { detail?: unknown; errors?: Array<{ field: string; reason: string }> };
      let detail = typeof problem.detail === "string" ? problem.detail : `The API answered ${res.status}.`;
      if (Array.isArray(problem.errors) && problem.errors.length > 0) {
        detail += ` (${problem.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")})`;
      }
      if (res.status === 401 && token !== null) ui.signOut(detail);
      return { ok: false, status: res.status, detail };
    },

    // ---- session ---------------------------------------------------------------
    async signIn(candidate: string): Promise<void> {
      token = candidate;
      ui.showError(ids.signInError, "");
      const check = await ui.call<unknown>("GET", "/status");
      if (!check.ok) return ui.signOut(check.detail);
      sessionStorage.setItem(TOKEN_KEY, candidate);
      ui.byId(ids.signIn).hidden = true;
      for (const id of [ids.dashboard, ids.sessionBar, ids.modeBanner]) ui.byId(id).hidden = false;
      ui.byId(ids.main).focus();
      timer = setInterval(() => void ui.refresh(), cfg.refreshMs);
      await ui.loadAll();
    },
    /** Back to the sign-in form, with none of the data left in the page. */
    signOut(detail = ""): void {
      token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      clearInterval(timer);
      rows.clear();
      for (const id of [ids.routesBody, ids.trafficBody, ids.auditBody, ids.flaggedList, ids.status]) {
        ui.byId(id).replaceChildren();
      }
      for (const id of [ids.dashboard, ids.sessionBar, ids.modeBanner]) ui.byId(id).hidden = true;
      ui.byId(ids.signIn).hidden = false;
      ui.showError(ids.signInError, detail);
      ui.control(ids.token).value = "";
      ui.control(ids.token).focus();
    },
    async loadAll(announce = false): Promise<void> {
      await Promise.all([ui.loadStatus(), ui.loadSettings(), ui.loadRoutes(), ui.loadStats(), ui.loadAudit()]);
      ui.stamp(announce);
    },
    /** The periodic refresh: all but the route table (and an edited rollout form). */
    async refresh(): Promise<void> {
      if (refreshing || token === null) return;
      refreshing = true;
      try {
        await Promise.all([ui.loadStatus(), ui.loadSettings(), ui.loadStats(), ui.loadAudit()]);
        ui.stamp(false);
      } finally {
        refreshing = false;
      }
    },
    stamp(announce: boolean): void {
      if (token === null) return;
      const at = new Date().toLocaleTimeString("en-GB");
      ui.byId(ids.updated).textContent = `Updated ${at}`;
      if (announce) ui.say(`Reloaded at ${at}.`);
    },

    // ---- progress, mode and kill switch, rollout ----------------------------------
    async loadStatus(): Promise<void> {
      const answer = await ui.call<{ routes: Record<RouteState, number> }>("GET", "/status");
      if (!answer.ok) return ui.showError(ids.progressError, `Route counts unavailable: ${answer.detail}`);
      ui.showError(ids.progressError, "");
      const { legacy, migrated, rollout: inRollout } = answer.data.routes;
      const total = legacy + migrated + inRollout;
      const bar = ui.byId(ids.progress) as DomProgress;
      bar.max = Math.max(total, 1);
      bar.value = migrated;
      ui.byId(ids.progressText).textContent = `${count.format(migrated)} of ${count.format(total)}`;
      ui.byId(ids.progressDetail).textContent =
        total === 0
          ? "The route table is empty."
          : `connections migrated (${percent.format(migrated / total)}); ${inRollout} in rollout, ${legacy} legacy.`;
    },
    async loadSettings(): Promise<void> {
      const answer = await ui.call<Settings>("GET", "/settings");
      if (answer.ok) return ui.applySettings(answer.data, answer.etag);
      ui.byId(ids.modeText).textContent = `Settings unavailable: ${answer.detail}`;
      ui.showError(ids.rolloutError, `Settings unavailable: ${answer.detail}`);
    },
    applySettings(settings: Settings, etag: string | null): void {
      mode = settings.mode;
      const on = mode === "passthrough";
      ui.byId(ids.killSwitch).setAttribute("aria-checked", String(on));
      ui.byId(ids.killState).textContent = on ? "ON" : "OFF";
      const banner = ui.byId(ids.modeBanner);
      banner.setAttribute("class", `mode mode-${mode}`);
      banner.textContent = on
        ? "Kill switch ON: every callback goes to Auth0"
        : mode === "shadow"
          ? "Shadow mode: decisions are only logged, every callback goes to Auth0"
          : "Routing: callbacks follow the route table";
      ui.byId(ids.modeText).textContent = on
        ? "Every /login/callback goes to Auth0, whatever the route table says."
        : `Callbacks follow the route table${mode === "shadow" ? " in shadow mode (logged, still sent to Auth0)" : ""}. Turn this on to send every callback to Auth0 at once.`;
      const loaded = JSON.stringify(settings.rollout);
      if (!rollout.dirty) {
        ui.control(ids.percentage).value = String(settings.rollout.percentage);
        ui.control(ids.include).value = settings.rollout.include.join(", ");
        ui.control(ids.exclude).value = settings.rollout.exclude.join(", ");
        rollout.loaded = loaded;
      }
      // Unsaved edits keep their ETag unless only other settings changed (they still apply as meant).
      if (!rollout.dirty || loaded === rollout.loaded) rollout.etag = etag;
    },
    async toggleKillSwitch(): Promise<void> {
      if (mode === null) return ui.say("The current mode is not known yet; press Refresh first.", true);
      const turnOn = mode !== "passthrough";
      const question = turnOn
        ? "Turn the kill switch ON?\n\nEvery /login/callback will go to Auth0, whatever the route table says (all locations within about 60 s)."
        : 'Turn the kill switch OFF?\n\nCallbacks will follow the route table again (mode "route"; all locations within about 60 s).';
      if (!confirm(question)) return ui.say(`Kill switch unchanged: ${turnOn ? "OFF" : "ON"}.`);
      const answer = await ui.call<Settings>("PUT", "/settings", { mode: turnOn ? "passthrough" : "route" });
      if (!answer.ok) return ui.say(`The kill switch was not changed: ${answer.detail}`, true);
      ui.applySettings(answer.data, answer.etag);
      ui.say(
        turnOn ? "Kill switch ON: every callback goes to Auth0." : "Kill switch OFF: callbacks follow the route table.",
      );
      void ui.loadAudit();
    },
    listOf(id: string): string[] {
      return ui
        .control(id)
        .value.split(",")
        .flatMap((item) => (item.trim() === "" ? [] : [item.trim()]));
    },
    async saveRollout(): Promise<void> {
      const field = ui.control(ids.percentage);
      const percentage = Number(field.value);
      if (field.value.trim() === "" || !(percentage >= 0 && percentage <= 100)) {
        ui.refused(ids.rolloutError, "Rollout not saved: the percentage must be a number from 0 to 100.");
        return field.focus();
      }
      const body: Rollout = { percentage, include: ui.listOf(ids.include), exclude: ui.listOf(ids.exclude) };
      const answer = await ui.call<Rollout>("PUT", "/rollout", body, rollout.etag);
      if (!answer.ok && answer.status !== 412)
        return ui.refused(ids.rolloutError, `Rollout not saved: ${answer.detail}`);
      rollout.dirty = false;
      await ui.loadSettings();
      if (!answer.ok) {
        return ui.refused(
          ids.rolloutError,
          `Rollout not saved: ${answer.detail}. The form shows the current values now.`,
        );
      }
      ui.showError(ids.rolloutError, "");
      const { include, exclude } = answer.data;
      ui.say(
        `Rollout saved: ${answer.data.percentage}% of organizations; always new: ${include.join(", ") || "none"}; never: ${exclude.join(", ") || "none"}.`,
      );
      void ui.loadAudit();
    },

    // ---- routes ----------------------------------------------------------------
    async loadRoutes(): Promise<void> {
      const routes: Route[] = [];
      let cursor: string | null = null;
      do {
        const after: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
        const page = await ui.call<{ routes: Route[]; nextCursor: string | null }>("GET", `/routes?limit=1000${after}`);
        if (!page.ok) return ui.showError(ids.routesError, `The route table could not be read: ${page.detail}`);
        routes.push(...page.data.routes);
        cursor = page.data.nextCursor;
      } while (cursor !== null && token !== null);
      ui.showError(ids.routesError, "");
      rows.clear();
      ui.byId(ids.routesBody).replaceChildren(...routes.map((route) => ui.routeRow(route)));
      ui.filter();
    },
    routeRow(route: Route): DomHtmlElement {
      const name = route.connection;
      const select = document.createElement("select");
      select.setAttribute("aria-label", `State of ${name}`);
      select.append(...STATES.map((state) => ui.h("option", { value: state }, state)));
      const apply = ui.h("button", { type: "button", "aria-label": `Apply the chosen state to ${name}` }, "Apply");
      const [version, updated] = [ui.h("td", { class: "num" }), ui.h("td")];
      const cells = [ui.h("td", {}, route.organization ?? "—"), ui.h("td", {}, route.protocol ?? "—")];
      const control = ui.h("td", {}, ui.h("div", { class: "state-control" }, select, apply));
      const tr = ui.h("tr", {}, ui.h("th", { scope: "row" }, name), ...cells, control, version, updated);
      const row: Row = { route, tr, select, version, updated };
      select.addEventListener("change", () => tr.classList.toggle("pending", select.value !== row.route.state));
      apply.addEventListener("click", () => void ui.changeState(row));
      ui.showRoute(row, route);
      rows.set(name, row);
      return tr;
    },
    showRoute(row: Row, route: Route): void {
      row.route = route;
      row.select.value = route.state;
      row.select.setAttribute("class", `state state-${route.state}`);
      row.tr.classList.toggle("pending", false);
      row.version.textContent = String(route.version);
      row.updated.replaceChildren(ui.time(route.updatedAt));
    },
    async changeState(row: Row): Promise<void> {
      const { connection, state: from, version } = row.route;
      const to = row.select.value as RouteState;
      if (to === from) return ui.say(`${connection} is already ${from}; choose another state first.`);
      const question = `Change ${connection} from ${from} to ${to}?\n\nIts callbacks will ${EFFECT[to]} (all locations within about 60 s).`;
      if (!confirm(question)) {
        ui.showRoute(row, row.route);
        return ui.say(`${connection} unchanged: still ${from}.`);
      }
      const path = `/routes/${encodeURIComponent(connection)}`;
      const answer = await ui.call<Route>("PATCH", path, { state: to }, `"${version}"`);
      if (answer.ok) {
        ui.showRoute(row, answer.data);
        ui.say(`${connection} is now ${to} (version ${answer.data.version}).`);
        return void Promise.all([ui.loadStatus(), ui.loadAudit()]);
      }
      if (answer.status !== 412 && answer.status !== 404) {
        ui.showRoute(row, row.route);
        return ui.say(`${connection} was not changed: ${answer.detail}`, true);
      }
      // Someone else changed or removed it: show what is there now.
      const current = await ui.call<Route>("GET", path);
      if (current.ok) ui.showRoute(row, current.data);
      else row.tr.hidden = true;
      ui.say(`${connection} was not changed: ${answer.detail} The row now shows the current route; try again.`, true);
    },
    filter(): void {
      const query = ui.control(ids.search).value.trim().toLowerCase();
      let shown = 0;
      for (const { route, tr } of rows.values()) {
        tr.hidden = !`${route.connection} ${route.organization ?? ""}`.toLowerCase().includes(query);
        if (!tr.hidden) shown++;
      }
      const all = count.format(rows.size);
      ui.byId(ids.searchCount).textContent = query === "" ? `${all} routes` : `${shown} of ${all} routes match`;
    },

    // ---- traffic: /stats -------------------------------------------------
    async loadStats(): Promise<void> {
      const answer = await ui.call<StatsReport>("GET", "/stats");
      try {
        if (!answer.ok) throw new Error(answer.detail);
        ui.renderShare(answer.data);
        ui.renderFlagged(answer.data.flagged);
        ui.showError(ids.statsError, "");
        ui.loadTraffic(answer.data.connections);
      } catch (err) {
        const message = `Traffic statistics unavailable: ${err instanceof Error ? err.message : "unexpected answer"}`;
        for (const id of [ids.flaggedList, ids.trafficBody]) ui.byId(id).replaceChildren();
        for (const id of [ids.share, ids.shareText]) ui.byId(id).textContent = "";
        for (const key of TOTALS) ui.byId(`${ids.totalPrefix}${key}`).textContent = "–";
        for (const id of [ids.flaggedText, ids.trafficText]) ui.byId(id).textContent = message;
        ui.showError(ids.statsError, message);
      }
    },
    renderShare({ newShare, totals: t }: StatsReport): void {
      ui.byId(ids.share).textContent = newShare === null ? "–" : percent.format(newShare);
      ui.byId(ids.shareText).textContent =
        newShare === null
          ? "No logins in the last 24 hours."
          : `of ${ui.many(t.logins, "login")} in the last 24 hours served by the new provider (a bounced login counts once, as served by Auth0).`;
      for (const key of TOTALS) ui.byId(`${ids.totalPrefix}${key}`).textContent = count.format(t[key]);
    },
    flagText(flag: Flag, { counts, fallbackShare }: ConnectionStats): string {
      switch (flag) {
        case "fallback-share-high":
          return `The new provider bounced ${percent.format(fallbackShare ?? 0)} of the logins sent to it back to Auth0 (${count.format(counts.fallback)} of ${count.format(counts.new)}).`;
        case "auth0-traffic-while-migrated":
          return `Migrated, yet ${ui.many(counts.auth0, "login")} went straight to Auth0 (propagation, kill switch or a bad record?).`;
        case "errors":
          return `${ui.many(counts.errors, "answer")} with a 5xx: Auth0 unreachable, too slow or answering 5xx, or a router failure.`;
        case "not-in-table":
          return `${ui.many(counts.logins, "login")} for a connection that is not in the route table.`;
        default:
          return String(flag);
      }
    },
    renderFlagged(flagged: ConnectionStats[]): void {
      ui.byId(ids.flaggedText).textContent =
        flagged.length === 0
          ? "Nothing flagged in the last 24 hours."
          : `${flagged.length} to look at (last 24 hours):`;
      const items = flagged.map((c) => {
        const reasons = ui.h("ul", {}, ...c.flags.map((flag) => ui.h("li", {}, ui.flagText(flag, c))));
        return ui.h(
          "li",
          {},
          ui.h("strong", {}, c.connection),
          " ",
          ui.h("span", { class: "badge" }, c.state ?? "not in table"),
          reasons,
        );
      });
      ui.byId(ids.flaggedList).replaceChildren(...items);
    },
    loadTraffic(connections: ConnectionStats[]): void {
      const busy = connections.filter((c) => c.counts.callbacks > 0 || c.counts.errors > 0);
      const shown = busy.slice(0, 50);
      ui.byId(ids.trafficText).textContent =
        busy.length === 0
          ? "No logins in the last 24 hours."
          : `Logins over the last 24 hours, busiest first${busy.length > shown.length ? ` (${shown.length} of ${busy.length} connections)` : ""}.`;
      const trs = shown.map((c) => {
        const chart = c.newShare === null ? "–" : percent.format(c.newShare);
        const { logins, new: sent, auth0, fallback, errors } = c.counts;
        const numbers = [logins, sent, auth0, fallback, errors].map((n) =>
          ui.h("td", { class: "num" }, count.format(n)),
        );
        const head = [ui.h("th", { scope: "row" }, c.connection), ui.h("td", {}, c.state ?? "not in table")];
        return ui.h("tr", {}, ...head, ui.h("td", {}, chart), ...numbers);
      });
      ui.byId(ids.trafficBody).replaceChildren(...trs);
    },
    // ---- audit -----------------------------------------------------------------
    async loadAudit(): Promise<void> {
      const answer = await ui.call<{ entries: AuditEntry[] }>("GET", "/audit?limit=50");
      if (!answer.ok) return ui.showError(ids.auditError, `The audit log could not be read: ${answer.detail}`);
      ui.showError(ids.auditError, "");
      const trs = answer.data.entries.map((e) => {
        const cells = [e.actor, e.action, e.subject ?? "—"].map((text) => ui.h("td", {}, text));
        return ui.h("tr", {}, ui.h("td", {}, ui.time(e.at)), ...cells, ui.h("td", { class: "change" }, ui.describe(e)));
      });
      const none = ui.h("tr", {}, ui.h("td", { colspan: "5" }, "No changes recorded yet."));
      ui.byId(ids.auditBody).replaceChildren(...(trs.length > 0 ? trs : [none]));
    },
    /** What an entry changed: `state: legacy → migrated`, or a summary. */
    describe(e: AuditEntry): string {
      if (e.before === null) return e.action.startsWith("route.") ? "created" : ui.short(e.after);
      if (e.after === null) return "deleted";
      const changes = ui.diff(e.before, e.after, "");
      return changes.length === 0 ? "no change" : changes.slice(0, 4).join("; ") + (changes.length > 4 ? "; …" : "");
    },
    diff(before: unknown, after: unknown, path: string): string[] {
      if (!ui.isRecord(before) || !ui.isRecord(after)) return [`${path}: ${ui.short(before)} → ${ui.short(after)}`];
      return [...new Set([...Object.keys(before), ...Object.keys(after)])]
        .filter((k) => k !== "version" && k !== "updatedAt" && JSON.stringify(before[k]) !== JSON.stringify(after[k]))
        .flatMap((k) => ui.diff(before[k], after[k], path === "" ? k : `${path}.${k}`));
    },
    isRecord(value: unknown): value is Record<string, unknown> {
      return typeof value === "object" && value !== null && !Array.isArray(value);
    },
    short(value: unknown): string {
      if (value === undefined || value === null) return "—";
      if (Array.isArray(value)) return value.length === 0 ? "none" : value.map((v) => ui.short(v)).join(", ");
      if (!ui.isRecord(value)) return String(value);
      // A summary (import, sync): long lists by their length.
      const entries = Object.entries(value).map(
        ([k, v]) => `${k}: ${Array.isArray(v) && v.length > 3 ? v.length : ui.short(v)}`,
      );
      const text = entries.join("; ");
      return text.length > 120 ? `${text.slice(0, 119)}…` : text;
    },
  };

  ui.byId(ids.signInForm).addEventListener("submit", (event) => {
    event.preventDefault();
    const candidate = ui.control(ids.token).value.trim();
    if (candidate === "") return ui.showError(ids.signInError, "Enter the token or JWT.");
    void ui.signIn(candidate);
  });
  ui.byId(ids.signOut).addEventListener("click", () => ui.signOut());
  ui.byId(ids.refresh).addEventListener("click", () => void ui.loadAll(true));
  ui.byId(ids.killSwitch).addEventListener("click", () => void ui.toggleKillSwitch());
  ui.byId(ids.rolloutForm).addEventListener("input", () => void (rollout.dirty = true));
  ui.byId(ids.rolloutForm).addEventListener("submit", (event) => {
    event.preventDefault();
    void ui.saveRollout();
  });
  ui.byId(ids.search).addEventListener("input", () => ui.filter());
  if (token === null) ui.signOut();
  else void ui.signIn(token);
}
