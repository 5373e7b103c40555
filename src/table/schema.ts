/**
 * The route table's shapes, validated in one place. The same schemas check the
 * seed file (routes.json), what the management API accepts, and every record
 * read back from KV — a record that fails here is never acted upon.
 */
import * as z from "zod";
import { findMatchConflicts } from "./matches";

/**
 * Auth0's rule for connection names (Management API v2, ConnectionName):
 * alphanumerics and '-', starting and ending alphanumeric, at most 128.
 */
export const CONNECTION_NAME_PATTERN = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;
export const CONNECTION_NAME_MAX = 128;

export function isConnectionName(value: string): boolean {
  return value.length <= CONNECTION_NAME_MAX && CONNECTION_NAME_PATTERN.test(value);
}

/** The reason a string is too long for a connection name, in plain words (with its length). */
export function connectionNameTooLong(length: number): string {
  return `an Auth0 connection name has at most ${CONNECTION_NAME_MAX} characters (this one has ${length})`;
}

export const CONNECTION_NAME_CHARACTERS =
  "an Auth0 connection name holds only letters, digits and single '-' between them";

/** Why `value` is not a connection name, in plain words; undefined when it is one. */
export function connectionNameProblem(value: string): string | undefined {
  if (value.length > CONNECTION_NAME_MAX) return connectionNameTooLong(value.length);
  if (!CONNECTION_NAME_PATTERN.test(value)) return CONNECTION_NAME_CHARACTERS;
  return undefined;
}

export const ConnectionName = z
  .string()
  .max(CONNECTION_NAME_MAX, { error: (issue) => connectionNameTooLong(String(issue.input).length) })
  .regex(CONNECTION_NAME_PATTERN, CONNECTION_NAME_CHARACTERS);

/** Entity IDs and issuers are compared exactly; they also become KV index keys (≤ 512 bytes). */
const Identifier = z.string().min(1).max(400, "at most 400 characters");

export const RouteState = z.enum(["legacy", "migrated", "rollout"]);
export type RouteState = z.infer<typeof RouteState>;

/** A connection's state at the new provider (WorkOS `GET /connections` → `state`). */
export const ProviderState = z.enum(["draft", "active", "inactive", "validating"]);
export type ProviderState = z.infer<typeof ProviderState>;

/** Auth0 strategy names (what decides how a connection's callbacks can be identified: table/routability.ts). */
export const Protocol = z.enum(["samlp", "oidc", "okta", "waad", "google-apps", "adfs", "wsfed", "other"]);
export type Protocol = z.infer<typeof Protocol>;

export const RouteMatch = z
  .object({
    /** SP entity ID / Audience the IdP puts in the assertion, when not urn:auth0:{tenant}:{connection}. */
    spEntityId: Identifier.optional(),
    /** The customer IdP's entity ID: SAML 2.0 <Issuer> or the SAML 1.1 / WS-Fed Issuer attribute. */
    idpEntityId: Identifier.optional(),
    /** The OIDC issuer (RFC 9207 `iss` parameter or the id_token's `iss` claim). */
    oidcIssuer: Identifier.optional(),
  })
  .strict();
export type RouteMatch = z.infer<typeof RouteMatch>;

const NOTE_MAX = 1000;

/** A route's note as stored: records written before control characters were refused still read. */
const StoredNote = z.string().max(NOTE_MAX);

/**
 * A route's note as written now: shown in terminals (the CLI) and pages, so no
 * control character but the line breaks and tabs of ordinary text (WorkOS'
 * `notes` column holds multi-line text).
 */
const Note = StoredNote.regex(
  /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/,
  "must not contain control characters (C0 other than tab and line breaks, DEL, C1, U+2028/2029, bidirectional controls): notes are shown in terminals",
);

/** What an operator writes for one connection (routes.json / API input). */
export const RouteInput = z
  .object({
    connection: ConnectionName,
    /** The Auth0 organization; with several, the one whose id keys the rollout bucket. */
    organization: z.string().min(1).max(128).optional(),
    /**
     * Every Auth0 organization the connection is enabled for, when more than one
     * (`organization` is one of them). Each gets the route in the `org:` index,
     * so /evaluate?organization= answers for each.
     */
    organizations: z.array(z.string().min(1).max(128)).min(1).max(100).optional(),
    protocol: Protocol.optional(),
    state: RouteState,
    /** The new provider's callback URL for this connection; settings.defaultTarget when absent. */
    target: z.string().url().max(2048).optional(),
    match: RouteMatch.optional(),
    /** The new provider's id for this connection (e.g. WorkOS `conn_…`), when known. */
    providerConnectionId: z.string().min(1).max(128).optional(),
    /**
     * The new provider's SP metadata URL for this connection: once Auth0 is retired,
     * /samlp/metadata?connection= redirects here instead of serving the stored snapshot.
     */
    metadataUrl: z
      .string()
      .url()
      .max(2048)
      .optional()
      .describe("Retired: /samlp/metadata?connection= redirects here (https, on ALLOWED_TARGET_HOSTS)"),
    // The next three are facts read from the provider, owned by the provider sync (src/writer/connections-plan.ts):
    // PUT and PATCH cannot set them, and an import keeps the stored values.
    providerState: ProviderState.optional().describe(
      "The provider connection's state, written by the provider sync (an import keeps the stored value)",
    ),
    providerOrganizationId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe("The provider's organization id (WorkOS org_…), written by the provider sync"),
    providerSyncedAt: z
      .string()
      .datetime()
      .optional()
      .describe("When the provider sync last changed this route's provider fields"),
    note: Note.optional(),
  })
  .strict();
export type RouteInput = z.infer<typeof RouteInput>;

/**
 * RouteInput that accepts the note a record already has (an older record's
 * control characters): a write that keeps the stored note is not refused for
 * it (table/validate.ts), and stored records read back (Route below).
 */
export const RouteInputKeepingNote = RouteInput.extend({ note: StoredNote.optional() }).strict();

/**
 * Why a route's organizations do not fit together, or undefined (checked on
 * every write by table/validate.ts; a refinement here would forbid .omit()).
 */
export function organizationsProblem(route: {
  organization?: string | undefined;
  organizations?: string[] | undefined;
}): { field: string; reason: string } | undefined {
  if (route.organizations === undefined) return undefined;
  if (new Set(route.organizations).size !== route.organizations.length) {
    return { field: "organizations", reason: "an organization is listed twice" };
  }
  if (route.organization === undefined || !route.organizations.includes(route.organization)) {
    return {
      field: "organization",
      reason: "with organizations, organization must be one of them (it keys the rollout bucket)",
    };
  }
  return undefined;
}

/** Every organization a route belongs to (organization and organizations together). */
export function organizationsOf(route: {
  organization?: string | undefined;
  organizations?: string[] | undefined;
}): string[] {
  const all = [...(route.organization === undefined ? [] : [route.organization]), ...(route.organizations ?? [])];
  return [...new Set(all)];
}

/** What is stored: the input plus the bookkeeping the writer owns. */
export const Route = RouteInputKeepingNote.extend({
  version: z.number().int().min(1),
  updatedAt: z.string().datetime(),
}).strict();
export type Route = z.infer<typeof Route>;

export const Rollout = z
  .object({
    percentage: z.number().min(0).max(100),
    /** Organization ids or connection names always sent to the new provider. */
    include: z.array(z.string().min(1).max(128)).max(10_000),
    /** Organization ids or connection names always kept on Auth0 (beats include). */
    exclude: z.array(z.string().min(1).max(128)).max(10_000),
  })
  .strict();
export type Rollout = z.infer<typeof Rollout>;

/** How the provider sync (src/writer/provider-sync.ts) may act; absent from Settings means these defaults. */
export const ProviderSettings = z
  .object({
    requireActive: z
      .boolean()
      .default(false)
      .describe("Refuse any route write that leaves a route migrated while its provider connection is not active"),
    autoMigrate: z
      .boolean()
      .default(false)
      .describe("The connections sync marks legacy routes migrated once their provider connection is active"),
    flagSlug: z
      .string()
      .min(1)
      .max(128)
      .default("workos-sso-enabled")
      .describe("The WorkOS feature flag mirrored into the rollout lists"),
    mirrorFlag: z
      .boolean()
      .default(false)
      .describe("The scheduled sync mirrors the flag too (POST /sync/flags works either way)"),
  })
  .strict();
export type ProviderSettings = z.infer<typeof ProviderSettings>;

export const DEFAULT_PROVIDER_SETTINGS: ProviderSettings = ProviderSettings.parse({});

/** Whether Auth0 still serves behind the router (docs/retirement.md). */
export const Auth0State = z.enum(["active", "retired"]);
export type Auth0State = z.infer<typeof Auth0State>;

/**
 * A path prefix of the path table: starts with "/", no query or fragment. It matches the
 * path itself and what lies under it ("/authorize" matches "/authorize" and "/authorize/x",
 * not "/authorizex"); a prefix ending in "/" matches what starts with it.
 */
export const PathPrefix = z
  .string()
  .min(1)
  .max(512)
  .regex(/^\/[^?#\s]*$/, 'a path prefix starts with "/" and has no query, fragment or space');

const PagePart = {
  title: z.string().min(1).max(200).optional().describe("The page's heading (a default when absent)"),
  message: z.string().min(1).max(2000).describe("The page's text, shown HTML-escaped"),
};

/** One row of the path table: what a path of the sign-in domain answers once Auth0 is retired. */
export const PathRule = z.discriminatedUnion("answer", [
  z
    .object({
      prefix: PathPrefix,
      answer: z.literal("redirect"),
      /** Where to send the browser; https and on ALLOWED_TARGET_HOSTS, like a callback target. */
      location: z.string().url().max(2048),
      /** keep: the request's query is appended to the location (as a callback target's is); drop: it is not. */
      query: z.enum(["keep", "drop"]).default("keep"),
      status: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
    })
    .strict(),
  z
    .object({
      prefix: PathPrefix,
      answer: z.literal("page"),
      status: z
        .number()
        .int()
        .min(200)
        .max(599)
        .refine((s) => s < 300 || s >= 400, "a page's status is 2xx, 4xx or 5xx (a redirect is answer: redirect)")
        .default(410),
      ...PagePart,
    })
    .strict(),
]);
export type PathRule = z.infer<typeof PathRule>;

/**
 * How callbacks follow the table: "route" acts on it; "shadow" decides and logs, yet sends every
 * callback to Auth0. The kill switch (below) is not a mode: it overrides either, and turning it
 * off leaves the mode as it was.
 */
export const Mode = z.enum(["route", "shadow"], {
  error: (issue) =>
    issue.input === "passthrough"
      ? 'mode takes "route" or "shadow": passthrough is no longer a mode, the kill switch is killSwitch: { "on": true }'
      : 'mode takes "route" or "shadow"',
});
export type Mode = z.infer<typeof Mode>;

/**
 * The kill switch: on = every callback goes to Auth0, whatever the mode and the table.
 * `since` and `by` are written by the writer when `on` changes (an operator sends only `on`).
 */
export const KillSwitch = z
  .object({
    on: z.boolean().describe("true: every callback goes to Auth0, whatever mode and the table say"),
    since: z.string().datetime().optional().describe("When it was last turned on or off (set by the writer)"),
    by: z.string().max(200).optional().describe("Who last turned it on or off: the audit's actor (set by the writer)"),
  })
  .strict();
export type KillSwitch = z.infer<typeof KillSwitch>;

export const KILL_SWITCH_OFF: KillSwitch = { on: false };

export const Settings = z
  .object({
    mode: Mode,
    killSwitch: KillSwitch,
    unknown: z.enum(["auth0", "probe"]),
    defaultTarget: z.string().url().max(2048).optional(),
    redirect: z.enum(["307", "form"]),
    rollout: Rollout,
    provider: ProviderSettings.optional(),
    /**
     * Transaction affinity (docs/design.md): with AFFINITY_SECRET set, "on" (the default when
     * absent) records Auth0's login starts and sends their callbacks back to Auth0; "off"
     * does neither, without a redeploy.
     */
    affinity: z
      .enum(["on", "off"])
      .optional()
      .describe('Transaction affinity: "on" (default) or "off"; it works only when AFFINITY_SECRET is set'),
    /**
     * "retired": Auth0 is switched off and nothing is forwarded to AUTH0_ORIGIN (docs/retirement.md).
     * Absent means "active". Becoming retired is checked (PUT /settings, GET /retirement).
     */
    auth0: Auth0State.optional().describe(
      '"active" (default) or "retired": when retired nothing is forwarded to Auth0 (docs/retirement.md)',
    ),
    /** Retired: what the page a fallback=auth0 bounce gets says after "could not sign you in": whom to contact. */
    bounceMessage: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .describe("Retired: whom to contact, on the page a fallback=auth0 bounce gets (shown HTML-escaped)"),
    /** Retired: what other paths answer, longest matching prefix first; the rest get a default page. */
    paths: z
      .array(PathRule)
      .max(100)
      .optional()
      .describe("Retired: path prefix → redirect or page, for paths other than the callback (docs/retirement.md)"),
  })
  .strict();
export type Settings = z.infer<typeof Settings>;

/** Auth0 is retired by the settings (the router also honours AUTH0_RETIRED: src/config/router.ts). */
export function isRetired(settings: Pick<Settings, "auth0">): boolean {
  return settings.auth0 === "retired";
}

export function providerSettingsOf(settings: Settings): ProviderSettings {
  return settings.provider ?? DEFAULT_PROVIDER_SETTINGS;
}

export const DEFAULT_SETTINGS: Settings = {
  mode: "route",
  killSwitch: KILL_SWITCH_OFF,
  unknown: "auth0",
  redirect: "307",
  rollout: { percentage: 0, include: [], exclude: [] },
};

/**
 * Settings stored by an earlier version kept the kill switch as a mode: `mode: "passthrough"`.
 * It reads as the kill switch on over mode "route" (what turning it off used to give).
 */
export const LEGACY_PASSTHROUGH = "passthrough";

/**
 * Stored settings (KV, the writer's storage) as this version reads them: an older
 * `mode: "passthrough"` becomes `killSwitch: { on: true }` over mode "route", and settings
 * without a kill switch have it off. Anything else is passed on unchanged, for Settings to check.
 */
export function upgradeStoredSettings(raw: unknown): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const settings = raw as Record<string, unknown>;
  if (settings["mode"] === LEGACY_PASSTHROUGH) return { ...settings, mode: "route", killSwitch: { on: true } };
  return settings["killSwitch"] === undefined ? { ...settings, killSwitch: KILL_SWITCH_OFF } : settings;
}

/** Stored settings (KV, the writer's storage), older shapes included: see upgradeStoredSettings. */
export function parseStoredSettings(raw: unknown): z.ZodSafeParseResult<Settings> {
  return Settings.safeParse(upgradeStoredSettings(raw));
}

/**
 * Settings as written in routes.json: every field optional. `mode` also takes the older
 * "passthrough", read as killSwitch on over mode "route" (upgradeSettingsInput).
 */
export const SettingsInput = Settings.partial()
  .extend({
    mode: z
      .enum(["route", "shadow", LEGACY_PASSTHROUGH])
      .optional()
      .describe(
        'route | shadow. Older files\' "passthrough" (the kill switch as a mode) reads as mode "route" with killSwitch { "on": true }',
      ),
    killSwitch: KillSwitch.optional().describe(
      "The kill switch; absent leaves it as it is. since/by are rewritten by the writer when on changes",
    ),
  })
  .strict();
export type SettingsInput = z.infer<typeof SettingsInput>;

/**
 * A file's settings as today's fields: `mode: "passthrough"` becomes mode "route" with the
 * kill switch on. A file without killSwitch (and without passthrough) leaves it out, so an
 * import keeps the kill switch as it is: re-importing the seed file never turns it off.
 */
export function settingsOfInput(input: SettingsInput): Partial<Settings> {
  const { mode, ...rest } = input;
  if (mode === LEGACY_PASSTHROUGH) return { ...rest, mode: "route", killSwitch: rest.killSwitch ?? { on: true } };
  return mode === undefined ? rest : { ...rest, mode };
}

/** routes.json: the declarative table. */
export const RouteTableFile = z
  .object({
    $schema: z.string().optional(),
    settings: SettingsInput.optional(),
    routes: z.array(RouteInput),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.routes.forEach((route, i) => {
      if (seen.has(route.connection)) {
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "connection"],
          message: `duplicate connection "${route.connection}"`,
        });
      }
      seen.add(route.connection);
    });
    for (const conflict of findMatchConflicts(file.routes)) {
      ctx.addIssue({
        code: "custom",
        path: ["routes", conflict.index, ...conflict.field.split(".")],
        message: conflict.message,
      });
    }
  });
export type RouteTableFile = z.infer<typeof RouteTableFile>;

/** One line per problem, each naming the field: `routes.2.target: Invalid URL`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path === "" ? issue.message : `${path}: ${issue.message}`;
  });
}
