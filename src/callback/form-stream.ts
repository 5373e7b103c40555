/**
 * Reading an application/x-www-form-urlencoded body as it arrives, without
 * holding it: each field's value is percent-decoded incrementally and handed
 * to the sink the caller picked for that field name (or skipped).
 *
 * Decoding follows the WHATWG URL Standard's urlencoded parser (§5.1): `&`
 * separates fields, the first `=` separates name and value, `+` is a space,
 * `%XY` is a byte, and a `%` not followed by two hex digits stays as it is.
 * An escape cut by a chunk boundary is carried over to the next chunk.
 */
import type { ScanStep } from "./body";

/** Receives one field's decoded value bytes, in order. */
export interface FieldSink {
  write(bytes: Uint8Array): ScanStep;
  /** The value ended (an `&`, or the end of the body). */
  end(): ScanStep;
}

/** Picks the sink for a field by its decoded name; undefined skips the value. */
export type OpenField = (name: string) => FieldSink | undefined;

/** Field names we act on are short; a longer name is skipped without being kept. */
const MAX_NAME_BYTES = 64;
/**
 * A sink gets at most this many bytes per write, so it can stop inside a chunk: the
 * body scan decodes and parses a SAMLResponse slice by slice and stops at the slice
 * holding the end of the identifying part, instead of decoding the whole chunk
 * (an 8 KB post arrives as one chunk; its Conditions end about 60 % into it).
 */
const SLICE_BYTES = 512;

const AMP = 0x26;
const EQ = 0x3d;
const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

export class FormReader {
  private inName = true;
  private name: number[] = [];
  private nameTooLong = false;
  private sink: FieldSink | undefined;
  private readonly decoder = new PercentDecoder();

  constructor(private readonly open: OpenField) {}

  /** Reads one chunk of the body; "stop" when a sink asked to stop. */
  write(chunk: Uint8Array): ScanStep {
    let i = 0;
    while (i < chunk.length) {
      if (this.inName) {
        let j = i;
        while (j < chunk.length && chunk[j] !== EQ && chunk[j] !== AMP) j++;
        this.addToName(chunk, i, j);
        if (j === chunk.length) return "more";
        if (chunk[j] === AMP) {
          // `name` alone: a field with an empty value.
          if (this.openField()?.end() === "stop") return "stop";
          this.reset();
        } else {
          this.sink = this.openField();
          this.inName = false;
        }
        i = j + 1;
      } else {
        let j = chunk.indexOf(AMP, i);
        if (j === -1) j = chunk.length;
        if (this.sink !== undefined) {
          for (let s = i; s < j; s += SLICE_BYTES) {
            const decoded = this.decoder.decode(chunk.subarray(s, Math.min(j, s + SLICE_BYTES)));
            if (decoded.length > 0 && this.sink.write(decoded) === "stop") return "stop";
          }
        }
        if (j === chunk.length) return "more";
        if (this.endValue() === "stop") return "stop";
        i = j + 1;
      }
    }
    return "more";
  }

  /** The body ended: ends the last field. */
  end(): ScanStep {
    if (this.inName) {
      if (this.name.length === 0 && !this.nameTooLong) return "more";
      const step = this.openField()?.end() ?? "more";
      this.reset();
      return step;
    }
    return this.endValue();
  }

  private endValue(): ScanStep {
    const sink = this.sink;
    const tail = this.decoder.flush();
    this.reset();
    if (sink === undefined) return "more";
    if (tail.length > 0 && sink.write(tail) === "stop") return "stop";
    return sink.end();
  }

  private addToName(chunk: Uint8Array, from: number, to: number): void {
    if (this.nameTooLong) return;
    if (this.name.length + (to - from) > MAX_NAME_BYTES * 3) {
      this.nameTooLong = true;
      this.name = [];
      return;
    }
    for (let k = from; k < to; k++) this.name.push(chunk[k] ?? 0);
  }

  private openField(): FieldSink | undefined {
    if (this.nameTooLong) return undefined;
    const decoder = new PercentDecoder();
    const bytes = decoder.decode(Uint8Array.from(this.name));
    const tail = decoder.flush();
    if (bytes.length + tail.length > MAX_NAME_BYTES) return undefined;
    let name = "";
    for (const b of bytes) name += String.fromCharCode(b);
    for (const b of tail) name += String.fromCharCode(b);
    return this.open(name);
  }

  private reset(): void {
    this.inName = true;
    this.name = [];
    this.nameTooLong = false;
    this.sink = undefined;
  }
}

/** Percent- and plus-decoding that carries an escape cut by a chunk boundary. */
export class PercentDecoder {
  /** 0: no escape; 1: saw `%`; 2: saw `%` and one hex digit (kept in `high`). */
  private state: 0 | 1 | 2 = 0;
  private high = 0;

  decode(input: Uint8Array): Uint8Array {
    if (this.state === 0 && input.indexOf(PERCENT) === -1 && input.indexOf(PLUS) === -1) return input;
    const out = new Uint8Array(input.length + 2);
    let n = 0;
    let i = 0;
    const len = input.length;
    if (this.state === 0) {
      // Fast path, in locals only: no escape pending, and an escape starting before
      // `whole` lies whole in this input. The last two bytes go through step().
      const whole = len - 2;
      while (i < whole) {
        const b = input[i] as number;
        if (b !== PERCENT) {
          out[n++] = b === PLUS ? SPACE : b;
          i++;
          continue;
        }
        const hi = HEX[input[i + 1] as number] as number;
        const lo = HEX[input[i + 2] as number] as number;
        if ((hi | lo) >= 0) {
          out[n++] = (hi << 4) | lo;
          i += 3;
        } else {
          // Not an escape: the `%` stays, and the bytes after it are read as themselves.
          out[n++] = PERCENT;
          i++;
        }
      }
    }
    for (; i < len; i++) n = this.step(input[i] as number, out, n);
    return out.subarray(0, n);
  }

  /** One byte through the escape state machine (an escape cut by the chunk's end). */
  private step(byte: number, out: Uint8Array, at: number): number {
    let n = at;
    const b = byte;
    for (;;) {
      if (this.state === 0) {
        if (b === PERCENT) this.state = 1;
        else out[n++] = b === PLUS ? SPACE : b;
        return n;
      }
      if (this.state === 1) {
        if (hexValue(b) >= 0) {
          this.high = b;
          this.state = 2;
          return n;
        }
        out[n++] = PERCENT;
        this.state = 0;
        continue; // b is read afresh
      }
      const hi = hexValue(this.high);
      const lo = hexValue(b);
      if (lo >= 0) {
        out[n++] = (hi << 4) | lo;
        this.state = 0;
        return n;
      }
      out[n++] = PERCENT;
      out[n++] = this.high;
      this.state = 0;
    }
  }

  /** The value ended: an unfinished escape stays literal. */
  flush(): Uint8Array {
    const out =
      this.state === 0
        ? new Uint8Array(0)
        : this.state === 1
          ? Uint8Array.of(PERCENT)
          : Uint8Array.of(PERCENT, this.high);
    this.state = 0;
    return out;
  }
}

/** Hex digit values by byte, -1 for a byte that is not one. */
const HEX: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let b = 0; b < 256; b++) t[b] = hexValue(b);
  return t;
})();

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}
