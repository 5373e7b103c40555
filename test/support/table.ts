/** The route table most tests run against. */
import type { RouteTableFile } from "../../src/table/schema";

export const DEFAULT_TARGET = "https://sso.example.com/sso/client_123/auth0/callback";

export const TEST_TABLE: RouteTableFile = {
  settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget: DEFAULT_TARGET },
  routes: [
    {
      connection: "acme-saml",
      state: "migrated",
      protocol: "samlp",
      target: "https://sso.example.com/auth0/acme/callback",
      match: { idpEntityId: "https://idp.acme.test/metadata" },
    },
    {
      connection: "globex-saml",
      state: "legacy",
      protocol: "samlp",
      match: { idpEntityId: "https://idp.globex.test/entity" },
    },
    {
      connection: "initech-saml",
      state: "migrated",
      protocol: "samlp",
      match: { idpEntityId: "https://idp.initech.test/entity" },
    },
    {
      connection: "custom-sp",
      state: "migrated",
      protocol: "samlp",
      match: { spEntityId: "https://app.example.com/saml/custom-sp" },
    },
    {
      connection: "hooli-adfs",
      state: "migrated",
      protocol: "adfs",
      match: { idpEntityId: "http://adfs.hooli.test/adfs/services/trust" },
    },
    { connection: "hooli-okta", state: "migrated", protocol: "okta", match: { oidcIssuer: "https://hooli.okta.test" } },
    { connection: "pied-oidc", state: "legacy", protocol: "oidc", match: { oidcIssuer: "https://login.pied.test/" } },
    { connection: "stark-saml", state: "rollout", organization: "org_stark" },
    { connection: "wayne-saml", state: "rollout" },
    { connection: "evil-target", state: "migrated", target: "https://sso.example.com.evil.test/callback" },
  ],
};
