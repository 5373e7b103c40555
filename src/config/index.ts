/**
 * All configuration: every variable of `Env` is read here, with the helpers
 * of ./read, validated once per env object (./once-per-env). Each part parses
 * on its own, so a mistake in one (say, the management API's) never stops
 * another (the callback router). The README's "Bindings, variables and secrets" table
 * lists every variable and the Worker that reads it; test/config-docs.test.ts keeps it complete.
 *
 * Both Workers parse with these same modules, each only what it reads: the router
 * (src/index.ts) ./router, ./stats and, for the admin prefix and credential stripping,
 * ./admin; the admin Worker (src/admin/worker.ts) all of them, ./workos and ./webhook included (the API
 * evaluates routing with the router's own configuration).
 */
export {
  adminConfigFor,
  adminPlaceOf,
  DEFAULT_PREFIX,
  isAdminUrl,
  parseAdminConfig,
  type AdminConfig,
  type AdminConfigResult,
  type AdminPlace,
} from "./admin";
export { oncePerEnv } from "./once-per-env";
export { checkUrl, isLocalHostname, type ConfigProblem, type Environment } from "./read";
export {
  configFor,
  environmentOf,
  parseConfig,
  targetConfigFor,
  type AffinityConfig,
  type Config,
  type ConfigResult,
  type ForwardConfig,
  type TargetConfig,
} from "./router";
export { parseStatsConfig, statsConfigFor, type StatsConfig } from "./stats";
export { parseWebhookConfig, webhookConfigFor, type WebhookConfigResult } from "./webhook";
export {
  DEFAULT_WORKOS_API_URL,
  parseWorkosConfig,
  workosConfigFor,
  type WorkosConfig,
  type WorkosConfigResult,
} from "./workos";
