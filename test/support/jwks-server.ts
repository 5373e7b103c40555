/**
 * A local JWKS endpoint (Node, loopback) standing in for an identity
 * provider's /.well-known/jwks.json, with the private key handed to tests so
 * they can sign real RS256 JWTs for the management API.
 */
import { exportJWK, generateKeyPair, type JWK } from "jose";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface JwksServer {
  url: string;
  privateJwk: JWK;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "test-key-1", alg: "RS256", use: "sig" };
  const privateJwk = { ...(await exportJWK(privateKey)), kid: "test-key-1", alg: "RS256" };
  const server = http.createServer((req, res) => {
    if (req.url === "/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [publicJwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    privateJwk,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
