/**
 * Reading a CSV file (RFC 4180, as WorkOS' migration package writes it: a
 * BOM, CRLF line ends, quoted cells that span lines) into records that each
 * know the physical line they start on, so every error names the line an
 * operator finds in an editor.
 *
 * csv-parse does the parsing; its own line count is not used: it counts the
 * CR and the LF of a CRLF inside a quoted cell as two lines and reports the
 * line where a record ends, so after one multi-line note every line it names
 * is wrong. The starts are counted here instead (recordStartLines).
 */
import { parse } from "csv-parse/browser/esm/sync";

export interface CsvRecord {
  /** Cells by (trimmed) header name. */
  cells: Record<string, string>;
  /** The physical line the record starts on (1-based; the header is line 1 when it is the first line). */
  line: number;
}

export type CsvRead =
  { ok: true; header: string[]; records: CsvRecord[] } | { ok: false; line: number | undefined; reason: string };

export function readCsv(text: string): CsvRead {
  const starts = recordStartLines(text);
  let parsed: Array<Record<string, string>>;
  try {
    parsed = parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      trim: false,
    }) as Array<Record<string, string>>;
  } catch (err) {
    return { ok: false, ...describeParseError(err, starts) };
  }
  const header = parsed[0] === undefined ? headerOf(text) : Object.keys(parsed[0]);
  // starts[0] is the header; data record i starts at starts[i + 1].
  const records = parsed.map((cells, i) => ({ cells, line: starts[i + 1] ?? 0 }));
  return { ok: true, header, records };
}

/**
 * The physical line (1-based) on which each non-empty record starts, header
 * included. A line break is CRLF, LF or a lone CR; one inside a quoted cell
 * (quotes open only at a cell's start, `""` is an escaped quote) continues the
 * record. Empty lines start no record (as csv-parse's skip_empty_lines).
 */
export function recordStartLines(text: string): number[] {
  const starts: number[] = [];
  let line = 1;
  let quoted = false;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\r" || ch === "\n") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      line++;
      if (!quoted) atLineStart = true;
      continue;
    }
    if (atLineStart) {
      if (!(i === 0 && ch === "\uFEFF")) {
        starts.push(line);
        atLineStart = false;
      }
    }
    if (ch === '"') quoted = !quoted;
  }
  return starts;
}

function describeParseError(err: unknown, starts: number[]): { line: number | undefined; reason: string } {
  const message = err instanceof Error ? err.message : "unreadable CSV";
  // csv-parse counts the records it finished (data records; the header is not one).
  const info = typeof err === "object" && err !== null ? (err as { records?: unknown; header?: unknown }) : {};
  const done = Number(info.records);
  const line = info.header === true ? starts[0] : Number.isInteger(done) ? starts[done + 1] : undefined;
  const reason = (line === undefined ? message : message.replace(/\b(on|at) line \d+/g, `$1 line ${line}`)).slice(
    0,
    300,
  );
  return { line, reason };
}

function headerOf(text: string): string[] {
  const first = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/, 1)[0] ?? "";
  return first === "" ? [] : first.split(",").map((h) => h.trim());
}
