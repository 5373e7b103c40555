/**
 * `metadata snapshot`: while Auth0 still runs, fetch the SP metadata Auth0 publishes for every
 * SAML route (`/samlp/metadata?connection={name}`) through the router itself — so the
 * document names the custom domain, as customers' IdPs know it — and store each with the API
 * (PUT /metadata/{connection}, bytes unchanged), for the retired router to serve.
 * `metadata list`: the stored snapshots.
 */
import type { Json } from "../client";
import { PartialFailure, type Command, type Context } from "../command";
import { table } from "../output";

const enc = encodeURIComponent;

/** Every route of protocol samlp (or the one named), from GET /routes. */
async function samlRoutes(ctx: Context, only: string | undefined): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: "1000" });
    if (cursor !== null) q.set("cursor", cursor);
    const { json } = await ctx.api.request("GET", `/routes?${q}`);
    for (const r of (json["routes"] as Json[] | undefined) ?? []) {
      const name = String(r["connection"]);
      if (only === undefined ? r["protocol"] === "samlp" : name === only) names.push(name);
    }
    cursor = (json["nextCursor"] as string | null | undefined) ?? null;
  } while (cursor !== null);
  return names;
}

interface Outcome {
  connection: string;
  ok: boolean;
  detail: string;
}

async function snapshotOne(ctx: Context, domain: string, connection: string): Promise<Outcome> {
  const url = `${domain}/samlp/metadata?connection=${enc(connection)}`;
  let res: Response;
  try {
    res = await ctx.io.fetch(url, { headers: { accept: "application/samlmetadata+xml, application/xml" } });
  } catch (err) {
    return {
      connection,
      ok: false,
      detail: `${url} did not answer: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    return { connection, ok: false, detail: `${url} answered ${res.status}` };
  }
  // Bytes, not text: a BOM or any other byte must reach the snapshot unchanged.
  const bytes = new Uint8Array(await res.arrayBuffer());
  try {
    const { json } = await ctx.api.request("PUT", `/metadata/${enc(connection)}`, {
      text: bytes,
      type: "application/samlmetadata+xml",
    });
    return { connection, ok: true, detail: `${String(json["bytes"])} bytes, entityID ${String(json["entityId"])}` };
  } catch (err) {
    const body = (err as { body?: Json }).body;
    const errors = (body?.["errors"] as Array<{ reason: string }> | undefined) ?? [];
    const why = errors.map((e) => e.reason).join("; ") || String(body?.["detail"] ?? err);
    return { connection, ok: false, detail: `refused: ${why}` };
  }
}

export const metadata: Command = {
  name: "metadata",
  summary: "snapshot the SAML SP metadata Auth0 publishes (before retiring it), or list the snapshots",
  positionals: [{ name: "snapshot|list", description: "snapshot or list", choices: ["snapshot", "list"] }],
  options: {
    domain: {
      type: "string",
      value: "URL",
      description: "the sign-in domain to fetch through (default: --url, the router)",
      check: (v) => (/^https?:\/\/[^/]+$/.test(v) ? undefined : "takes an origin such as https://auth.example.com"),
    },
    connection: { type: "string", value: "NAME", description: "only this connection" },
  },
  details: [
    "Run it while Auth0 is still active: the router forwards /samlp/metadata to Auth0, so each document is Auth0's own, with the custom domain's URLs. Once Auth0 is retired the router serves the stored copy byte for byte (or redirects to the route's metadataUrl).",
    "Exits 1 when any connection's document could not be fetched or was refused (each is listed).",
  ],
  examples: ["npm run routes -- metadata snapshot", "npm run routes -- metadata list"],
  async run(ctx) {
    const [what] = ctx.positionals;
    if (what === "list") {
      const { json } = await ctx.api.request("GET", "/metadata");
      const rows = (json["snapshots"] as Json[] | undefined) ?? [];
      return ctx.print(json, () =>
        table([
          ["CONNECTION", "BYTES", "STORED", "ENTITY ID"],
          ...rows.map((r) => [
            String(r["connection"]),
            String(r["bytes"]),
            String(r["storedAt"]),
            String(r["entityId"]),
          ]),
        ]),
      );
    }
    const domain = ctx.string("domain") ?? new URL(ctx.api.base).origin;
    const outcomes: Outcome[] = [];
    for (const connection of await samlRoutes(ctx, ctx.string("connection"))) {
      outcomes.push(await snapshotOne(ctx, domain, connection));
    }
    ctx.print(outcomes, () =>
      [
        ...outcomes.map((o) => `${o.ok ? "stored " : "FAILED "} ${o.connection}: ${o.detail}`),
        `${outcomes.filter((o) => o.ok).length} of ${outcomes.length} SAML connection(s) snapshotted`,
      ].join("\n"),
    );
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed > 0) throw new PartialFailure(`${failed} SAML connection(s) not snapshotted (listed above)`);
  },
};
