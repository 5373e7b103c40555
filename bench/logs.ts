/** The Worker's logs: the router writes one JSON line per callback to stdout; anything else is a problem. */
export class LogTally {
  reasons = new Map<string, number>();
  /** `{decision} {reason}`, plus ` (shadow: new)` when shadow mode held back a redirect. */
  decisions = new Map<string, number>();
  problemEvents = new Map<string, number>();
  lastProblems: string[] = [];
  stderr: string[] = [];
  /** Every line seen since the start (never reset): tells whether lines are still arriving. */
  lines = 0;

  /**
   * One structured log message (one console.log call). Called on the load generator's
   * thread for every line, so it reads the few fields it needs with indexOf: no split, no
   * regex, no Buffer round trip (bench/README.md, "The log line").
   */
  line(message: string): void {
    if (message === "") return;
    this.lines++;
    const event = fieldOf(message, "event");
    if (event === "callback") {
      const reason = fieldOf(message, "reason") ?? "?";
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      const decision = fieldOf(message, "decision") ?? "?";
      const key = `${decision} ${reason}${message.includes('"shadowDecision":"new"') ? " (shadow: new)" : ""}`;
      this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
      if (message.includes('"problem"')) this.noteProblem("callback-problem", message);
    } else {
      this.noteProblem(event ?? "non-json", message);
    }
  }

  private noteProblem(kind: string, line: string): void {
    this.problemEvents.set(kind, (this.problemEvents.get(kind) ?? 0) + 1);
    if (this.lastProblems.length < 5) this.lastProblems.push(line.slice(0, 400));
  }

  feedStderr(chunk: Buffer | string): void {
    if (this.stderr.length >= 50) return;
    this.stderr.push(
      ...chunk
        .toString()
        .split("\n")
        .filter((l) => l.trim() !== ""),
    );
  }

  reset(): void {
    this.reasons = new Map();
    this.decisions = new Map();
    this.problemEvents = new Map();
    this.lastProblems = [];
  }
}

/** The string value of `"name":"…"` in a JSON line (values without escapes, as the router's are). */
function fieldOf(line: string, name: string): string | undefined {
  const key = `"${name}":"`;
  const at = line.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = line.indexOf('"', start);
  return end < 0 ? undefined : line.slice(start, end);
}
