/**
 * What the management API refuses stays small and says so (a refused import
 * lists the first 100 problems and how many there were), and a route's note
 * holds no control characters (it is printed in terminals by the CLI).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { IMPORT_LIMIT_BYTES } from "../src/admin/app";
import { TableDb } from "../src/writer/table-db";
import { ADMIN_TOKEN, adminEnv, api, json, PREFIX, resetTable } from "./support/admin";
import { call, HOST } from "./support/worker";

beforeEach(() => resetTable());

type Problem = {
  status: number;
  detail: string;
  errors: Array<{ field: string; reason: string }>;
  errorCount?: number;
};

const CONTROL_NOTE = "ok\u001b[2J\u001b]0;owned\u0007 \u009b31m";

/** Bytes of an answer as sent (its body read whole). */
async function sizeAndJson(res: Response): Promise<{ bytes: number; problem: Problem }> {
  const text = await res.text();
  return { bytes: new TextEncoder().encode(text).length, problem: JSON.parse(text) as Problem };
}

describe("a refused import answers with at most 100 problems and says how many there were", () => {
  it("a 5 MiB multipart import of ~90 000 tiny parts gets a small 422", async () => {
    const boundary = "x";
    const parts: string[] = [];
    let length = 0;
    for (let i = 0; ; i++) {
      const part = `--${boundary}\r\ncontent-disposition: form-data; name="${i}"\r\n\r\n\r\n`;
      if (length + part.length + boundary.length + 6 > IMPORT_LIMIT_BYTES) break;
      parts.push(part);
      length += part.length;
    }
    const body = `${parts.join("")}--${boundary}--\r\n`;
    console.log(`multipart import: ${parts.length} parts, ${body.length} bytes`);
    expect(parts.length).toBeGreaterThanOrEqual(85_000);
    expect(body.length).toBeLessThanOrEqual(IMPORT_LIMIT_BYTES);
    const res = await call(
      new Request(`${HOST}${PREFIX}/import`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
        },
        body,
      }),
      adminEnv(),
    );
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const { bytes, problem } = await sizeAndJson(res);
    console.log(`422 answer: ${bytes} bytes`);
    expect(bytes).toBeLessThan(20_000);
    // Every part is not a package file, and proxy_routes.csv is missing.
    expect(problem.errorCount).toBe(parts.length + 1);
    expect(problem.errors).toHaveLength(100);
    expect(problem.errors[0]).toEqual({ field: "0", reason: expect.stringContaining("not a package file") });
    expect(problem.detail).toContain(
      `Showing the first 100 of ${parts.length + 1} problems (${parts.length - 99} more).`,
    );
  }, 60_000);

  it("a routes.json of 5 000 bad routes gets the first 100 and the count", async () => {
    const routes = Array.from({ length: 5_000 }, (_, i) => ({ connection: `bad-${i}`, state: "sideways" }));
    const res = await api("/import?dryRun=true", { method: "POST", body: { routes } });
    expect(res.status).toBe(422);
    const { bytes, problem } = await sizeAndJson(res);
    expect(bytes).toBeLessThan(20_000);
    expect(problem.errorCount).toBe(5_000);
    expect(problem.errors.map((e) => e.field)).toEqual(Array.from({ length: 100 }, (_, i) => `routes.${i}.state`));
    expect(problem.detail).toContain("Showing the first 100 of 5000 problems (4900 more).");
  });

  it("a problem with 100 errors or fewer lists them all, with no count", async () => {
    const routes = Array.from({ length: 100 }, (_, i) => ({ connection: `bad-${i}`, state: "sideways" }));
    const problem = await json<Problem>(await api("/import?dryRun=true", { method: "POST", body: { routes } }));
    expect(problem.errors).toHaveLength(100);
    expect(problem.errorCount).toBeUndefined();
    expect(problem.detail).not.toContain("Showing");
  });

  it("clips a field name as long as the body to 300 characters", async () => {
    const name = "n".repeat(100_000);
    const form = new FormData();
    form.append(name, "x");
    const res = await call(
      new Request(`${HOST}${PREFIX}/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        body: form,
      }),
      adminEnv(),
    );
    const { bytes, problem } = await sizeAndJson(res);
    expect(res.status).toBe(422);
    expect(bytes).toBeLessThan(2_000);
    expect(problem.errors[0]?.field).toBe(`${"n".repeat(300)}… (100000 characters)`);
  });
});

describe("a route's note holds no control characters", () => {
  it.each([
    ["ESC (terminal escape sequences)", "clear\u001b[2J"],
    ["an OSC title / clipboard sequence", "\u001b]52;c;b3duZWQ=\u0007"],
    ["a line separator (U+2028)", "line one\u2028line two"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007fb"],
    ["a C1 control (CSI)", "a\u009b31m"],
    ["a bidirectional override", "a\u202eb"],
  ])("PUT, PATCH and import refuse %s, naming note", async (_why, note) => {
    const put = await api("/routes/acme-saml", { method: "PUT", body: { state: "legacy", note } });
    // 422, as for every invalid field of a JSON body (a 2000-character note is one too).
    expect(put.status).toBe(422);
    expect(put.headers.get("content-type")).toBe("application/problem+json");
    expect((await json<Problem>(put)).errors).toEqual([
      { field: "note", reason: expect.stringContaining("must not contain control characters") },
    ]);
    expect((await api("/routes/acme-saml", { method: "PUT", body: { state: "legacy" } })).status).toBe(201);
    const patch = await api("/routes/acme-saml", { method: "PATCH", body: { note } });
    expect(patch.status).toBe(422);
    expect((await json<Problem>(patch)).errors.map((e) => e.field)).toEqual(["note"]);
    const imported = await api("/import", {
      method: "POST",
      body: { routes: [{ connection: "globex-saml", state: "legacy", note }] },
    });
    expect(imported.status).toBe(422);
    expect((await json<Problem>(imported)).errors.map((e) => e.field)).toEqual(["routes.0.note"]);
    const csv = await api("/import", {
      method: "POST",
      contentType: "text/csv",
      text: `externalId,cutoverState,notes\r\nglobex-saml,legacy,"${note.replace(/"/g, '""')}"\r\n`,
    });
    expect(csv.status).toBe(422);
    expect(JSON.stringify(await json<Problem>(csv))).toMatch(/notes/);
    expect((await api("/routes/globex-saml")).status).toBe(404);
  });

  it("keeps printable text, accents, emoji, tabs and line breaks in a note", async () => {
    const note = 'Ticket #42 — café ✓ 🚀 "quoted" <tag>\r\nsecond line\tand a tab\nthird';
    const res = await api("/routes/acme-saml", { method: "PUT", body: { state: "legacy", note } });
    expect(res.status).toBe(201);
    expect((await json<{ note: string }>(res)).note).toBe(note);
  });

  it("a record stored with such a note before the rule still reads, routes, and takes writes that keep its note", async () => {
    const stub = env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));
    await runInDurableObject(stub, (_instance, state) => {
      new TableDb(state.storage.sql).writeRoute(
        { connection: "acme-saml", state: "legacy", note: CONTROL_NOTE },
        "2026-11-01T00:00:00.000Z",
      );
    });
    const read = await api("/routes/acme-saml");
    expect(read.status).toBe(200);
    expect((await json<{ note: string }>(read)).note).toBe(CONTROL_NOTE);
    // A change that leaves the note alone is not refused for it; a new note must be clean.
    const patched = await api("/routes/acme-saml", { method: "PATCH", body: { state: "migrated" } });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect(await json<{ state: string; note: string }>(patched)).toMatchObject({
      state: "migrated",
      note: CONTROL_NOTE,
    });
    const exported = await json<{ routes: unknown[] }>(await api("/export"));
    const reimport = await api("/import?dryRun=true", { method: "POST", body: { routes: exported.routes } });
    expect(reimport.status, await reimport.clone().text()).toBe(200);
    const cleaned = await api("/routes/acme-saml", { method: "PATCH", body: { note: "cleaned up" } });
    expect(cleaned.status).toBe(200);
  });
});
