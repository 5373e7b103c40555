/**
 * A callback body that can be looked at and still be forwarded byte for byte.
 *
 * Reading a stream consumes it, so the first `limit` bytes are read once and
 * kept; the body sent on is those bytes followed by the unread rest of the
 * original stream. Nothing beyond `limit` is ever buffered.
 */

export class PeekableBody {
  private readonly stream: ReadableStream<Uint8Array> | null;
  private readonly declaredLength: number | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private head: Uint8Array[] = [];
  private headLength = 0;
  private done = false;
  private peeked: Promise<Peek> | undefined;

  constructor(stream: ReadableStream<Uint8Array> | null, contentLength: string | null) {
    this.stream = stream;
    const n = contentLength === null ? NaN : Number(contentLength);
    this.declaredLength = Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    if (stream === null) this.done = true;
  }

  /**
   * Up to `limit` bytes from the start; `complete` says whether that is the
   * whole body. Repeated calls return the same result.
   */
  peek(limit: number): Promise<Peek> {
    this.peeked ??= this.readHead(limit);
    return this.peeked;
  }

  private async readHead(limit: number): Promise<Peek> {
    if (this.stream !== null) {
      this.reader = this.stream.getReader();
      while (this.headLength < limit) {
        const { done, value } = await this.reader.read();
        if (done) {
          this.done = true;
          break;
        }
        this.head.push(value);
        this.headLength += value.byteLength;
      }
    }
    const bytes = concat(this.head, this.headLength);
    return {
      bytes: bytes.subarray(0, Math.min(limit, bytes.byteLength)),
      complete: this.done && bytes.byteLength <= limit,
    };
  }

  /** The body to forward: the original stream if never read, else head + rest, unchanged. */
  forForwarding(): BodyInit | null {
    if (this.reader === undefined) return this.stream;
    const head = concat(this.head, this.headLength);
    if (this.done) return head;
    const reader = this.reader;
    const rest = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(head);
      },
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    if (this.declaredLength === undefined) return rest;
    // Keep the declared Content-Length instead of switching to chunked encoding.
    const fixed = new FixedLengthStream(this.declaredLength);
    void rest.pipeTo(fixed.writable).catch(() => {
      // The client went away or the origin stopped reading; fetch reports it.
    });
    return fixed.readable;
  }
}

export interface Peek {
  bytes: Uint8Array<ArrayBuffer>;
  complete: boolean;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
