/**
 * CPU time of the workerd process(es) this benchmark started, read from
 * /proc/<pid>/stat (Linux; utime + stime in clock ticks). A scenario's workerd
 * CPU per request is the difference over its measured run divided by its
 * responses: unlike req/s it is not shared with autocannon and the origin
 * (both in this Node process), so it moves less with the machine's load.
 * Resolution is one clock tick (10 ms at 100 Hz): over a 3 s run it is
 * well under 1 %. Elsewhere than Linux the figures are NaN.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is state (field 3); utime and stime are fields 14 and 15.
  return { pid, comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** The pids of this process's descendants whose command name starts with `name`. */
export function descendantsNamed(name: string, root: number = process.pid): number[] {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  const stats = pids.map(readStat).filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      if (child.comm.startsWith(name)) out.push(child.pid);
      walk(child.pid);
    }
  };
  walk(root);
  return out;
}

/** Total CPU seconds (user + system) of `pids` so far; NaN when none can be read. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  let read = 0;
  for (const pid of pids) {
    const s = readStat(pid);
    if (s === undefined) continue;
    ticks += s.ticks;
    read++;
  }
  return read === 0 ? NaN : ticks / clockTicks();
}
