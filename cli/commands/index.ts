/** The command table: every command the CLI knows, in the order help lists them. */
import type { Command } from "../command";
import { autopilot } from "./autopilot";
import { audit, coverage, evaluate, status } from "./insight";
import { metadata } from "./metadata";
import { get, list, remove, set } from "./routes";
import { killSwitch, rollout, settings } from "./settings";
import { pull, push } from "./table";
import { rehearse } from "./rehearse";

export const COMMANDS: readonly Command[] = [
  status,
  list,
  get,
  set,
  remove,
  push,
  pull,
  settings,
  killSwitch,
  rollout,
  evaluate,
  coverage,
  rehearse,
  audit,
  metadata,
  autopilot,
];
