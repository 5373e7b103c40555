declare namespace Cloudflare {
  interface Env {
    ROUTES: KVNamespace;
  }
}
