/**
 * Runs in Node before the workerd tests: starts the Auth0 stand-in, finds a
 * refused port, and generates SAML / WS-Fed messages with real SAML libraries
 * (they cannot run inside workerd), handing all of it to the tests by `provide`.
 */
import type { TestProject } from "vitest/node";
import { makeSamlResponse, makeSpMetadata, makeWsFedResult } from "./fixtures/saml";
import type { JWK } from "jose";
import { AFFINITY_REQUEST_ID } from "./support/affinity";
import { startJwksServer } from "./support/jwks-server";
import { closedPort, startOriginServer } from "./support/origin-server";

export interface SamlFixtures {
  /** samlp:/saml: prefixes; Audience urn:auth0:example-tenant:acme-saml. */
  prefixed: string;
  /** No prefixes (default namespaces); Audience urn:auth0:example-tenant:globex-saml. */
  defaultNamespace: string;
  /** EncryptedAssertion; only the Response Issuer (initech's IdP) is readable. */
  encrypted: string;
  /** Default-namespace response whose Audience is a custom SP entity ID. */
  customAudience: string;
  /** Audience naming a connection of another tenant; Issuer is acme's IdP. */
  otherTenant: string;
  /** WS-Fed wresult XML from hooli's ADFS (SAML 1.1, Issuer attribute). */
  wsfed: string;
  /** acme's IdP answering an SP-initiated login: InResponseTo = AFFINITY_REQUEST_ID. */
  spInitiated: string;
  /**
   * Form bodies (`SAMLResponse=…&RelayState=…`) of globex's IdP (a legacy connection, so
   * forwarded to Auth0) with enough groups to land on each side of the Worker's 16 KiB read
   * and 512 KiB scan limits: `bytes` is the body's length.
   */
  sized: Array<{ bytes: number; body: string }>;
}

/** Body sizes to straddle: 16 KiB (one read, src/callback/body.ts) and 512 KiB (BODY_SCAN_LIMIT_BYTES). */
const SIZE_TARGETS = [8 * 1024, 15 * 1024, 18 * 1024, 96 * 1024, 500 * 1024, 530 * 1024, 700 * 1024, 1024 * 1024];

async function sizedSamlBodies(destination: string): Promise<Array<{ bytes: number; body: string }>> {
  const body = async (groups: number) => {
    const saml = await makeSamlResponse({
      form: "default-namespace",
      audience: "urn:auth0:example-tenant:globex-saml",
      issuer: "https://idp.globex.test/entity",
      destination,
      groups,
    });
    return `SAMLResponse=${encodeURIComponent(saml)}&RelayState=${encodeURIComponent("rs&<>")}`;
  };
  // The groups attribute grows the body linearly: measure it once, then aim at each target.
  const [base, hundred] = [(await body(0)).length, (await body(100)).length];
  const perGroup = (hundred - base) / 100;
  return Promise.all(
    SIZE_TARGETS.map(async (target) => {
      const text = await body(Math.max(0, Math.round((target - base) / perGroup)));
      return { bytes: new TextEncoder().encode(text).length, body: text };
    }),
  );
}

declare module "vitest" {
  export interface ProvidedContext {
    originPort: number;
    closedPort: number;
    saml: SamlFixtures;
    jwksUrl: string;
    jwtPrivateKey: JWK;
    /** FUZZ_SEED from the environment, else a fresh one (printed at the start of the run). */
    fuzzSeed: number;
    /** An Auth0 stand-in of the retirement tests alone: it counts every request (GET /__stand-in/total). */
    retiredOriginPort: number;
    /** What that stand-in serves at /samlp/metadata?connection= (generated SP metadata, and hostile documents). */
    spMetadata: Record<string, string>;
  }
}

export default async function setup(project: TestProject) {
  // The Worker imports the dashboard's bundled client (git-ignored, built from src/dashboard/client/).
  // Imported here, not at the top: tests import this module's constants inside workerd, where esbuild cannot load.
  const { buildDashboard } = await import("../scripts/build-dashboard");
  await buildDashboard();
  // CI runs one fixed seed (a landing must not depend on luck); elsewhere each run explores anew.
  const ciSeed = process.env["CI"] === "true" ? "20261123" : undefined;
  const fuzzSeed = Number(process.env["FUZZ_SEED"] ?? ciSeed ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isSafeInteger(fuzzSeed))
    throw new Error(`FUZZ_SEED must be a whole number, got "${process.env["FUZZ_SEED"]}"`);
  project.provide("fuzzSeed", fuzzSeed);
  // Printed here, in Node, so it shows even though passing tests' console output is not (vitest.config.ts).
  console.log(`fuzz seed ${fuzzSeed} (FUZZ_SEED=${fuzzSeed} npm run test:unit repeats this run)`);
  const origin = await startOriginServer();
  const spMetadata = await retirementMetadata();
  const retiredOrigin = await startOriginServer({ metadata: spMetadata });
  project.provide("retiredOriginPort", retiredOrigin.port);
  project.provide("spMetadata", spMetadata);
  const jwks = await startJwksServer();
  project.provide("jwksUrl", jwks.url);
  project.provide("jwtPrivateKey", jwks.privateJwk);
  project.provide("originPort", origin.port);
  project.provide("closedPort", await closedPort());
  const acs = "https://auth.example.com/login/callback";
  project.provide("saml", {
    prefixed: await makeSamlResponse({
      form: "prefixed",
      audience: "urn:auth0:example-tenant:acme-saml",
      issuer: "https://idp.acme.test/metadata",
      destination: `${acs}?connection=acme-saml`,
    }),
    defaultNamespace: await makeSamlResponse({
      form: "default-namespace",
      audience: "urn:auth0:example-tenant:globex-saml",
      issuer: "https://idp.globex.test/entity",
      destination: `${acs}?connection=globex-saml`,
    }),
    encrypted: await makeSamlResponse({
      form: "encrypted",
      audience: "urn:auth0:example-tenant:initech-saml",
      issuer: "https://idp.initech.test/entity",
      destination: acs,
    }),
    customAudience: await makeSamlResponse({
      form: "default-namespace",
      audience: "https://app.example.com/saml/custom-sp",
      issuer: "https://idp.unknown.test/x",
      destination: acs,
    }),
    otherTenant: await makeSamlResponse({
      form: "prefixed",
      audience: "urn:auth0:other-tenant:globex-saml",
      issuer: "https://idp.acme.test/metadata",
      destination: acs,
    }),
    spInitiated: await makeSamlResponse({
      form: "prefixed",
      audience: "urn:auth0:example-tenant:acme-saml",
      issuer: "https://idp.acme.test/metadata",
      destination: `${acs}?connection=acme-saml`,
      inResponseTo: AFFINITY_REQUEST_ID,
    }),
    sized: await sizedSamlBodies(acs),
    wsfed: await makeWsFedResult({
      issuer: "http://adfs.hooli.test/adfs/services/trust",
      audience: "urn:auth0:example-tenant",
    }),
  });
  return async () => {
    await origin.close();
    await retiredOrigin.close();
    await jwks.close();
  };
}

/**
 * The retirement tests' SP metadata: generated documents for two SAML connections, and
 * documents the snapshot must refuse (a DTD with an entity, an entity-expansion bomb,
 * another root element, one over the size limit).
 */
async function retirementMetadata(): Promise<Record<string, string>> {
  const domain = "auth.example.com";
  const tenant = "example-tenant";
  // As Auth0 sends it: an XML declaration, a trailing newline (the snapshot must keep every byte).
  const acme = `<?xml version="1.0" encoding="UTF-8"?>\n${await makeSpMetadata({ domain, tenant, connection: "acme-saml" })}\n`;
  return {
    "acme-saml": acme,
    "globex-saml": await makeSpMetadata({ domain, tenant, connection: "globex-saml" }),
    "xxe-saml": `<?xml version="1.0"?>\n<!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n${acme.replace(/^<\?xml[^>]*\?>\n/, "").replace("</EntityDescriptor>", "<Extensions>&xxe;</Extensions></EntityDescriptor>")}`,
    "bomb-saml": `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">&lol2;</md:EntityDescriptor>`,
    "other-root": `<?xml version="1.0"?><EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">${acme.replace(/^<\?xml[^>]*\?>/, "")}</EntitiesDescriptor>`,
    "huge-saml": acme.replace(
      "</EntityDescriptor>",
      `<Extensions>${"<!-- padding -->".repeat(6000)}</Extensions></EntityDescriptor>`,
    ),
  };
}
