declare namespace Cloudflare {
  interface Env {
    ROUTES: KVNamespace;
    ROUTE_WRITER: DurableObjectNamespace<import("../src/writer/durable-object").RouteTableWriter>;
  }
}
