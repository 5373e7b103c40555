/**
 * /metadata: the SP metadata Auth0 published for each SAML connection, snapshotted while
 * Auth0 still runs (`npm run routes -- metadata snapshot` fetches it through the router and
 * PUTs it here), so the retired router can serve it byte for byte (src/retired/answer.ts).
 * Checked here (./saml-metadata.ts), then stored by the writer in KV under
 * `metadata:{connection}` (docs/storage.md) and audited (`metadata.snapshot`).
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import {
  metadataKey,
  METADATA_PREFIX,
  SAML_METADATA_CONTENT_TYPE,
  type MetadataSnapshotInfo,
} from "../table/kv-layout";
import { connectionNameProblem } from "../table/schema";
import { writerOf } from "../writer";
import { requireScope } from "./auth";
import type { AdminApp } from "./context";
import { ApiProblem, notAConnection, unprocessable } from "./problem";
import { checkSamlMetadata, MAX_METADATA_BYTES } from "./saml-metadata";
import { ConnectionParam, jsonOf, problemResponses } from "./schemas";
import { unwrap } from "./writer-http";

const SnapshotInfoSchema = z
  .object({
    connection: z.string(),
    sha256: z.string().meta({ description: "SHA-256 of the stored bytes, hex" }),
    bytes: z.number().int(),
    storedAt: z.string(),
    entityId: z.string().meta({ description: "The document's EntityDescriptor entityID" }),
  })
  .meta({ id: "MetadataSnapshot" });

const XML_TYPES = new Set(["application/samlmetadata+xml", "application/xml", "text/xml"]);

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function checkedConnection(connection: string): string {
  const problem = connectionNameProblem(connection);
  if (problem !== undefined) throw notAConnection(problem);
  return connection;
}

export function registerMetadataRoutes(app: AdminApp): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "put",
      path: "/metadata/{connection}",
      summary:
        "Store the SP metadata snapshot of a connection (Auth0's /samlp/metadata?connection= document, bytes unchanged), served once Auth0 is retired",
      request: {
        params: ConnectionParam,
        body: {
          required: true,
          content: { [SAML_METADATA_CONTENT_TYPE]: { schema: z.string() }, "application/xml": { schema: z.string() } },
        },
      },
      responses: {
        200: { description: "Stored", content: jsonOf(SnapshotInfoSchema) },
        413: problemResponses[400],
        415: problemResponses[400],
        ...problemResponses,
      },
    }),
  );
  app.put("/metadata/:connection", async (c) => {
    const principal = c.get("principal");
    requireScope(principal, "routes:write");
    const connection = checkedConnection(c.req.param("connection"));
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!XML_TYPES.has(type)) {
      throw new ApiProblem(415, "Unsupported media type", `Send the document as ${SAML_METADATA_CONTENT_TYPE}.`);
    }
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > MAX_METADATA_BYTES) {
      throw new ApiProblem(413, "Body too large", `SP metadata is at most ${MAX_METADATA_BYTES} bytes.`);
    }
    const checked = checkSamlMetadata(bytes);
    if (!checked.ok) {
      throw unprocessable("Not stored: the document is not SAML metadata the router may serve.", [
        { field: "body", reason: checked.reason },
      ]);
    }
    const info: MetadataSnapshotInfo = {
      sha256: await sha256Hex(bytes),
      bytes: bytes.byteLength,
      storedAt: new Date().toISOString(),
      entityId: checked.entityId,
    };
    unwrap(await writerOf(c.env).storeMetadataSnapshot(principal.actor, connection, bytes, info));
    return c.json({ connection, ...info }, 200);
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/metadata",
      summary: "The stored SP metadata snapshots (KV metadata:{connection})",
      responses: {
        200: { description: "Snapshots", content: jsonOf(z.object({ snapshots: z.array(SnapshotInfoSchema) })) },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const snapshots = await writerOf(c.env).listMetadataSnapshots();
      return c.json({ snapshots }, 200);
    },
  );
}
