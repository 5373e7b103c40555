/**
 * Stands in for zod's `locales` namespace (zod/v4/locales/index.js) in the
 * Worker bundle, through wrangler.toml's [alias]: the router only uses zod's
 * English messages (zod installs them itself), and the other ~45 languages
 * are 264 KB of minified code that every cold isolate would otherwise parse.
 * `z.locales.en` keeps working; any other `z.locales.*` is undefined.
 */
export { default as en } from "zod/v4/locales/en.js";
