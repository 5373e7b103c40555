/** The management API's hono types: what each route module registers on, and what a request carries. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AdminConfig } from "../config";
import type { Env } from "../env";
import type { Principal } from "./auth";

export type AdminEnv = { Bindings: Env; Variables: { principal: Principal; adminConfig: AdminConfig } };
export type AdminApp = OpenAPIHono<AdminEnv>;
