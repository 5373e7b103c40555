/**
 * Base64 (RFC 4648 §4, the standard alphabet) decoded as it arrives: input may
 * be cut anywhere, whitespace anywhere is skipped (IdPs wrap at 64 or 76
 * characters, with CRLF or LF), padding is optional at the end as in `atob`.
 */

const INVALID = -1;
const WHITESPACE = -2;
const PAD = -3;

const TABLE: Int8Array = (() => {
  const t = new Int8Array(256).fill(INVALID);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  for (const c of [0x20, 0x09, 0x0a, 0x0d, 0x0c]) t[c] = WHITESPACE;
  t[0x3d] = PAD;
  return t;
})();

export class Base64Decoder {
  private acc = 0;
  private count = 0;
  private padded = 0;
  private failed = false;
  private total = 0;

  /** Decodes the next piece; undefined once the input is not base64. */
  write(input: Uint8Array): Uint8Array | undefined {
    if (this.failed) return undefined;
    const out = new Uint8Array(Math.ceil((input.length * 3) / 4) + 3);
    let n = 0;
    // The group being built and the padding seen live in locals through the loop (a field per byte costs).
    let acc = this.acc;
    let count = this.count;
    let padded = this.padded;
    const len = input.length;
    for (let i = 0; i < len; i++) {
      const v = TABLE[input[i] as number] as number;
      if (v >= 0 && padded === 0) {
        acc = (acc << 6) | v;
        if (++count === 4) {
          out[n++] = (acc >> 16) & 0xff;
          out[n++] = (acc >> 8) & 0xff;
          out[n++] = acc & 0xff;
          acc = 0;
          count = 0;
        }
        continue;
      }
      if (v === WHITESPACE) continue;
      if (v === INVALID || (padded > 0 && v !== PAD)) return this.fail();
      // v === PAD: "xx==" or "xxx=": the last group ends here.
      if (padded === 0) {
        if (count < 2) return this.fail();
        this.acc = acc;
        this.count = count;
        n = this.flushGroup(out, n);
        acc = 0;
        count = 0;
      } else if (padded >= 2) {
        return this.fail();
      }
      padded++;
    }
    this.acc = acc;
    this.count = count;
    this.padded = padded;
    this.total += n;
    return out.subarray(0, n);
  }

  /** The input ended: the last bytes of an unpadded final group, or undefined when it was not base64. */
  end(): Uint8Array | undefined {
    if (this.failed) return undefined;
    if (this.padded > 0 || this.count === 0) return this.total > 0 ? new Uint8Array(0) : undefined;
    if (this.count === 1) return this.fail();
    const out = new Uint8Array(2);
    const n = this.flushGroup(out, 0);
    this.total += n;
    return out.subarray(0, n);
  }

  private flushGroup(out: Uint8Array, n: number): number {
    if (this.count === 2) {
      out[n++] = (this.acc >> 4) & 0xff;
    } else if (this.count === 3) {
      out[n++] = (this.acc >> 10) & 0xff;
      out[n++] = (this.acc >> 2) & 0xff;
    }
    this.acc = 0;
    this.count = 0;
    return n;
  }

  private fail(): undefined {
    this.failed = true;
    return undefined;
  }
}
