import { createApp } from "./app";

export { RouteTableWriter } from "./writer/durable-object";

export default createApp();
