/**
 * DOM helpers and formatters shared by the panels. Untrusted text only ever goes
 * through textContent and setAttribute, never innerHTML.
 */

/** The element with this id; the page (page.tsx) renders every id the client asks for. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`dashboard: no #${id}`);
  return found as T;
}

export function control(id: string): HTMLInputElement {
  return byId<HTMLInputElement>(id);
}

/** An element with attributes and children; strings become text, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Shows `message` in an error paragraph, or hides it when empty. */
export function showError(id: string, message: string): void {
  const node = byId(id);
  node.textContent = message;
  node.hidden = message === "";
}

export const count = new Intl.NumberFormat("en");
export const percent = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

/** "1 login", "2 logins". */
export function many(n: number, noun: string): string {
  return `${count.format(n)} ${noun}${n === 1 ? "" : "s"}`;
}

export function share(value: number | null): string {
  return value === null ? "–" : percent.format(value);
}

const WITH_ZONE = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
});

/** A <time> in the browser's zone, with the zone named ("30 Nov 2026, 12:41:09 UTC"); ISO in its title. */
export function time(iso: string): HTMLTimeElement {
  return h("time", { datetime: iso, title: iso }, WITH_ZONE.format(new Date(iso)));
}

/** "just now", "3 min ago", "2 h ago", "5 days ago". */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return "just now";
  if (s < 3_600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ago`;
  return many(Math.floor(s / 86_400), "day") + " ago";
}

/** A link to one connection's view. */
export function connectionLink(connection: string): HTMLAnchorElement {
  return h("a", { href: `#connection/${encodeURIComponent(connection)}` }, connection);
}

/** A table wrapper that scrolls sideways inside its card, never the page. */
export function scrollBox(table: HTMLTableElement): HTMLDivElement {
  return h("div", { class: "scroll" }, table);
}
