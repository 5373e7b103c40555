/**
 * The few browser APIs the dashboard script (script.ts) uses, typed by hand:
 * the Worker's TypeScript program has workers-types and no DOM library (the two
 * conflict). Each is a subset of the real one; e2e/dashboard.e2e.ts, compiled
 * with lib.dom, checks that the browser's own types satisfy these.
 */

export interface DomEvent {
  preventDefault(): void;
}

export interface DomClassList {
  toggle(token: string, force?: boolean): boolean;
}

/** What append() takes (the real one: a Node, which has textContent). */
export interface DomNode {
  textContent: string | null;
}

/** An HTML or SVG element, as far as the script uses one. */
export interface DomElement extends DomNode {
  readonly classList: DomClassList;
  append(...nodes: Array<DomNode | string>): void;
  replaceChildren(...nodes: Array<DomNode | string>): void;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
}

export interface DomHtmlElement extends DomElement {
  hidden: boolean;
  focus(): void;
}

/** input, select, option and button all have these. */
export interface DomControl extends DomHtmlElement {
  value: string;
  disabled: boolean;
}

export interface DomProgress extends DomHtmlElement {
  value: number;
  max: number;
}

export interface DomDocument {
  getElementById(id: string): DomHtmlElement | null;
  createElement(tag: "input" | "select" | "option" | "button"): DomControl;
  createElement(tag: string): DomHtmlElement;
  createElementNS(namespace: "http://www.w3.org/2000/svg", tag: string): DomElement;
}

export interface DomStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface DomRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  credentials: "omit";
  cache: "no-store";
}

export interface DomResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}
