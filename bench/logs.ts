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
  private rest = "";

  feed(chunk: Buffer): void {
    const text = this.rest + chunk.toString("utf8");
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") continue;
      this.lines++;
      const event = /"event":"([^"]+)"/.exec(line)?.[1];
      if (event === "callback") {
        const reason = /"reason":"([^"]+)"/.exec(line)?.[1] ?? "?";
        this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
        const decision = /"decision":"([^"]+)"/.exec(line)?.[1] ?? "?";
        const key = `${decision} ${reason}${line.includes('"shadowDecision":"new"') ? " (shadow: new)" : ""}`;
        this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
        if (line.includes('"problem"')) this.noteProblem("callback-problem", line);
      } else {
        this.noteProblem(event ?? "non-json", line);
      }
    }
  }

  private noteProblem(kind: string, line: string): void {
    this.problemEvents.set(kind, (this.problemEvents.get(kind) ?? 0) + 1);
    if (this.lastProblems.length < 5) this.lastProblems.push(line.slice(0, 400));
  }

  feedStderr(chunk: Buffer): void {
    if (this.stderr.length >= 50) return;
    this.stderr.push(
      ...chunk
        .toString("utf8")
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
