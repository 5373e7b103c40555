/**
 * A browser that goes away while the Worker reads its POST body (tab closed, network
 * dropped) got no answer: that is not a router error. The Worker logs `client-gone`,
 * answers 499 with no page (nobody reads it), and /stats counts no error and no login.
 * A body stream that errors after its first chunk stands in for the hang-up (workerd
 * gives the Worker's read the same rejection: e2e/client-gone.e2e.ts does it with a socket).
 */
import { beforeEach, describe, expect, inject, it } from "vitest";
import { api, json, resetTable } from "./support/admin";
import { call, captureLogs, HOST } from "./support/worker";

beforeEach(async () => {
  await resetTable();
  await api("/import?mode=replace", {
    method: "POST",
    body: { routes: [{ connection: "globex-saml", state: "legacy" }] },
  });
});

type Totals = { logins: number; errors: number; callbacks: number };
const totals = async (): Promise<Totals> => {
  const res = await api("/stats");
  const body = await json<{ totals: Totals }>(res);
  if (body.totals === undefined) throw new Error(`/stats: ${res.status} ${JSON.stringify(body)}`);
  return body.totals;
};

/** The start of a SAML response whose Issuer has not arrived yet: the scan wants more. */
const SAML_HEAD = `SAMLResponse=${encodeURIComponent(
  btoa('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0">'),
)}${"A".repeat(2000)}`;

/** A POST whose body delivers `first`, then fails the way a dropped connection does. */
function hangingUp(path: string, first: string, headers: Record<string, string> = {}): Request {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode(first));
      } else {
        controller.error(new Error("Network connection lost."));
      }
    },
  });
  return new Request(`${HOST}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

describe("a client that hangs up mid-POST", () => {
  it.each<[string, Record<string, string>]>([
    ["while the body scan and the short rest are read (Content-Length 20 000)", { "content-length": "20000" }],
    ["while the read head and the rest stream on to Auth0 (no Content-Length)", {}],
  ])("%s: logs client-gone, answers 499 without a page, counts nothing", async (_name, headers) => {
    const before = await totals();
    const { result, logs } = await captureLogs(() => call(hangingUp("/login/callback", SAML_HEAD, headers)));
    expect(result.status).toBe(499);
    expect(await result.text()).toBe("");
    expect(logs).toContainEqual(expect.objectContaining({ event: "client-gone", path: "/login/callback" }));
    expect(logs.map((l) => l["event"])).not.toContain("unexpected");
    expect(logs.map((l) => l["event"])).not.toContain("auth0-error");
    expect(await totals()).toEqual(before);
  });

  it("after the scan gave up, while the rest streams on to Auth0: cuts the upload, logs client-gone, counts nothing", async () => {
    const before = await totals();
    // The scan gives up at 1 KiB: the rest of the first chunk and what follows stream on.
    const id = `client-gone-${Date.now()}`;
    const { result, logs } = await captureLogs(() =>
      call(hangingUp("/login/callback", SAML_HEAD, { "x-test-id": id }), { BODY_SCAN_LIMIT_BYTES: "1024" }),
    );
    expect(result.status).toBe(499);
    expect(logs).toContainEqual(
      expect.objectContaining({ event: "client-gone", message: expect.stringContaining("sent on to Auth0") }),
    );
    expect(logs.map((l) => l["event"])).not.toContain("auth0-error");
    expect(await totals()).toEqual(before);
    // Auth0 never gets the cut body as a whole one (before: a chunked upload ended cleanly there).
    const seen = await fetch(`http://127.0.0.1:${inject("originPort")}/__stand-in/count?id=${id}`);
    expect(await seen.json()).toMatchObject({ completeBodies: 0 });
  });

  it.each<[string, string, Record<string, string>]>([
    [
      "a callback named by its query, its short body read before forwarding (Content-Length 20 000)",
      "/login/callback?connection=globex-saml",
      { "content-length": "20000" },
    ],
    [
      "a callback named by its query, its body streaming straight on to Auth0 (Content-Length 200 000)",
      "/login/callback?connection=globex-saml",
      { "content-length": "200000" },
    ],
    [
      "a callback named by its query, its body streaming straight on to Auth0 (no Content-Length)",
      "/login/callback?connection=globex-saml",
      {},
    ],
    [
      "a pass-through POST streaming straight on to Auth0 (Content-Length 200 000)",
      "/u/login?state=x",
      { "content-length": "200000" },
    ],
    ["a pass-through POST streaming straight on to Auth0 (no Content-Length)", "/u/login?state=x", {}],
  ])(
    "%s: never read for routing, still client-gone (499), no error, Auth0 gets no whole body",
    async (_name, path, headers) => {
      const before = await totals();
      const id = `client-gone-unread-${crypto.randomUUID()}`;
      const { result, logs } = await captureLogs(() =>
        call(hangingUp(path, SAML_HEAD, { ...headers, "x-test-id": id })),
      );
      expect(result.status).toBe(499);
      expect(await result.text()).toBe("");
      expect(logs).toContainEqual(expect.objectContaining({ event: "client-gone", path: path.split("?")[0] }));
      expect(logs.map((l) => l["event"])).not.toContain("auth0-error");
      expect(logs.map((l) => l["event"])).not.toContain("callback");
      expect(await totals()).toEqual(before);
      const seen = await fetch(`http://127.0.0.1:${inject("originPort")}/__stand-in/count?id=${id}`);
      expect(await seen.json()).toMatchObject({ completeBodies: 0 });
    },
  );

  it("a pass-through POST whose client stays is forwarded byte for byte (through the same pipe)", async () => {
    const body = "x".repeat(100_000);
    const res = await call(
      new Request(`${HOST}/u/login?state=x`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(body.length) },
        body: new TextEncoder().encode(body),
      }),
    );
    expect(res.status).toBe(200);
    const got = (await res.json()) as { bodyLength: number; method: string };
    expect(got).toMatchObject({ method: "POST", bodyLength: 100_000 });
  });

  it("still counts Auth0 unreachable as an error when the client is there (the body read in part)", async () => {
    const before = await totals();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(SAML_HEAD));
        controller.enqueue(new TextEncoder().encode("&RelayState=r"));
        controller.close();
      },
    });
    const request = new Request(`${HOST}/login/callback`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    const { result, logs } = await captureLogs(() =>
      call(request, { AUTH0_ORIGIN: `http://127.0.0.1:${inject("closedPort")}` }),
    );
    expect(result.status).toBe(502);
    expect(logs).toContainEqual(expect.objectContaining({ event: "auth0-error" }));
    expect(logs.map((l) => l["event"])).not.toContain("client-gone");
    const after = await totals();
    expect(after.errors - before.errors).toBe(1);
  });
});
