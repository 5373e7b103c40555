/**
 * Every command in the README's shell blocks is run here, in the README's order, against the
 * local Workers (the two built Workers in workerd, an Auth0 stand-in): the go-live checklist's
 * `npm run routes -- …` through the CLI itself, `cp` in the operator's directory, and
 * `npm run deploy` / `npm run secrets` as processes, which must refuse the example configs and
 * a short token before deploying or putting anything. Two commands are named, not run:
 * `npm test` is this suite, and `npm run dev` holds a fixed port until stopped.
 * A command the README gains that this file does not know fails the first test.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeIo } from "../cli/node-io";
import { runCli } from "../cli/run";
import { RecordingServer } from "./support/recording-server";
import { ROOT, startWorker, type RunningWorker } from "./support/worker";

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The command lines of the README's ```sh blocks, comments and blank lines left out. */
export function readmeCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^\s*```sh\n([\s\S]*?)^\s*```/gm)].map((m) => m[1] ?? "");
  return blocks.flatMap((block) =>
    block
      .split("\n")
      .map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
}

/** Named, not run, and why. */
const NOT_RUN: Record<string, string> = {
  "npm install && npm run dev": "starts wrangler dev on port 8787 until stopped (docs/development.md)",
  "npm test": "this suite",
};

const TOKEN = randomBytes(32).toString("base64url");
let worker: RunningWorker;
let auth0: RecordingServer;
let dir: string;

beforeAll(async () => {
  auth0 = new RecordingServer("Auth0 stand-in", () => ({ status: 200, body: "auth0" }));
  const port = await auth0.start();
  worker = await startWorker({
    ENVIRONMENT: "development",
    AUTH0_ORIGIN: `http://127.0.0.1:${port}`,
    AUTH0_TENANT: "example",
    ALLOWED_TARGET_HOSTS: "sso.example.com",
    ADMIN_TOKEN: TOKEN,
    AFFINITY_SECRET: randomBytes(32).toString("base64url"),
    ROUTE_CACHE_SECONDS: "0",
  });
  dir = mkdtempSync(path.join(os.tmpdir(), "callback-router-readme-"));
});

afterAll(async () => {
  await worker?.stop();
  await auth0?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** `npm run <script> -- args` as a process from the repository root, stdin given. */
function npmRun(args: string[], input: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      "npm",
      ["run", "--silent", ...args],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, CLOUDFLARE_API_TOKEN: "" } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
    child.stdin?.end(input);
  });
}

describe("the README's commands", () => {
  const commands = readmeCommands(README);

  it("finds them, and knows every one", () => {
    expect(commands.length).toBeGreaterThanOrEqual(15);
    const unknown = commands.filter(
      (c) =>
        !(c in NOT_RUN) &&
        !c.startsWith("npm run routes -- ") &&
        !c.startsWith("cp ") &&
        !c.startsWith("npm run deploy -- ") &&
        !c.startsWith("npm run secrets -- "),
    );
    expect(unknown, "README commands no test runs").toEqual([]);
    expect(readmeCommands("```sh\nnpm test   # all\n# a note\n\n```\n")).toEqual(["npm test"]);
  });

  it("runs the go-live checklist's CLI commands in order against the local Workers, each exiting 0", async () => {
    const ran: string[] = [];
    for (const command of commands) {
      if (command.startsWith("cp ")) {
        const [, from, to] = command.split(/\s+/);
        copyFileSync(path.join(ROOT, from ?? ""), path.join(dir, to ?? ""));
        ran.push(command);
        continue;
      }
      if (!command.startsWith("npm run routes -- ")) continue;
      const argv = command.slice("npm run routes -- ".length).split(/\s+/);
      const out: string[] = [];
      const io = nodeIo(
        dir,
        (t) => out.push(t),
        (t) => out.push(t),
        {
          ROUTER_URL: worker.origin,
          ROUTER_TOKEN: TOKEN,
        },
      );
      expect(await runCli(argv, io), `${command}\n${out.join("\n")}`).toBe(0);
      ran.push(command);
    }
    expect(ran.length).toBeGreaterThanOrEqual(12);
    // The checklist ends with the kill switch off, route mode, one more connection migrated.
    const settings = await fetch(`${worker.origin}/__router/v1/settings`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await settings.json()).toMatchObject({ mode: "route", rollout: { percentage: 10 } });
  });

  it("npm run deploy: the example configs never deploy (the dry run passes in npm test's build:check)", async () => {
    const dryRun = commands.filter((c) => c.startsWith("npm run deploy -- ") && c.includes("--dry-run"));
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(dryRun).toEqual(["npm run deploy -- --env production --dry-run"]);
    expect(pkg.scripts["build:check"]).toBe(`${pkg.scripts["deploy"]} --env production --dry-run`);
    for (const command of commands.filter((c) => c.startsWith("npm run deploy -- ") && !c.includes("--dry-run"))) {
      const { code, out } = await npmRun(["deploy", "--", ...command.split(/\s+/).slice(4)], "");
      expect(code, out).toBe(1);
      expect(out).toContain("is the example's");
      expect(out).toContain("Stopped: nothing was deployed.");
    }
  });

  it("npm run secrets: a token under 32 characters is refused before anything is put", async () => {
    const puts = commands.filter((c) => c.startsWith("npm run secrets -- "));
    expect(puts.length).toBeGreaterThan(0);
    for (const command of puts) {
      const { code, out } = await npmRun(["secrets", "--", ...command.split(/\s+/).slice(4)], "too-short\n");
      expect(code, out).toBe(2);
      expect(out).toContain("nothing was put");
    }
  });
});
