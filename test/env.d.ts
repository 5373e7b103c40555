declare namespace Cloudflare {
  interface Env {
    ROUTES: KVNamespace;
    TRAFFIC_COUNTER: DurableObjectNamespace<import("../src/stats/counter-do").TrafficCounter>;
    ROUTE_WRITER: DurableObjectNamespace<import("../src/writer/durable-object").RouteTableWriter>;
  }
}
