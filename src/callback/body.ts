/**
 * A callback body that can be looked at and still be forwarded byte for byte.
 *
 * Reading a stream consumes it, so the chunks read to look at it are kept; the
 * body sent on is those chunks followed by the unread rest of the original
 * stream, unchanged. Only what was looked at is ever held: a scan that stops
 * early (the identifying values were near the top) leaves the rest unread.
 */
import { concatBytes } from "../bytes";

/** What a scan's consumer says after each chunk: read on, or stop here. */
export type ScanStep = "more" | "stop";

export interface ScanEnd {
  /** The consumer saw every byte of the body. */
  complete: boolean;
  /** The consumer asked to stop before the end. */
  stopped: boolean;
  /** Bytes the consumer was given (≤ limit). */
  bytesScanned: number;
}

/** workerd's ReadableStreamBYOBReader.readAtLeast (not in every lib's types). */
type ReadAtLeast = (minBytes: number, view: Uint8Array) => Promise<ReadableStreamReadResult<Uint8Array>>;

/** The most a read of a byte stream asks for at once (see openReader). */
const BYOB_READ_BYTES = 16 * 1024;

/** An unread rest up to this size is read before forwarding (forwardable). */
const SMALL_REST_BYTES = 64 * 1024;

export class PeekableBody {
  private readonly stream: ReadableStream<Uint8Array> | null;
  private readonly declaredLength: number | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader | undefined;
  /** The same reader when the source is a byte stream of declared length (a request body). */
  private byob: ReadableStreamBYOBReader | undefined;
  private head: Uint8Array[] = [];
  private headLength = 0;
  private done = false;
  private busy: Promise<unknown> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private onFailure: ((error: unknown) => void) | undefined;

  constructor(stream: ReadableStream<Uint8Array> | null, contentLength: string | null) {
    this.stream = stream;
    const n = contentLength === null ? NaN : Number(contentLength);
    this.declaredLength = Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    if (stream === null) this.done = true;
  }

  /** Bytes read from the client so far (held for forwarding). */
  get bytesRead(): number {
    return this.headLength;
  }

  /**
   * The source's error once a read of it failed — here or in the pipe behind the held
   * head (forForwarding) — else undefined. For a request body: the client went away
   * (src/client-gone.ts).
   */
  get sourceError(): { error: unknown } | undefined {
    return this.failure;
  }

  /**
   * Settles with the source's error when a read of it fails — here, or in the pipe
   * forForwarding puts in front of every body it sends on — never otherwise; undefined when
   * no later failure can come (no body, or read to its end).
   */
  sourceFailed(): Promise<unknown> | undefined {
    if (this.failure !== undefined) return Promise.resolve(this.failure.error);
    if (this.stream === null || this.done) return undefined;
    return new Promise((resolve) => {
      const earlier = this.onFailure;
      this.onFailure = (error) => {
        earlier?.(error);
        resolve(error);
      };
    });
  }

  /**
   * Gives `consume` the body from its first byte, chunk by chunk as it
   * arrives, until `consume` answers "stop", `limit` bytes were given (the
   * chunk crossing the limit is cut there) or the body ends. Chunks read by an
   * earlier scan or peek are given again first. Reads no further than needed.
   */
  scan(limit: number, consume: (chunk: Uint8Array) => ScanStep): Promise<ScanEnd> {
    return this.serially(async () => {
      let given = 0;
      for (let i = 0; ; i++) {
        if (given >= limit) {
          return { complete: this.done && given === this.headLength, stopped: false, bytesScanned: given };
        }
        const chunk = i < this.head.length ? this.head[i] : await this.pull();
        if (chunk === undefined) return { complete: true, stopped: false, bytesScanned: given };
        const part = chunk.byteLength > limit - given ? chunk.subarray(0, limit - given) : chunk;
        given += part.byteLength;
        if (part.byteLength > 0 && consume(part) === "stop") {
          return { complete: false, stopped: true, bytesScanned: given };
        }
      }
    });
  }

  /**
   * Up to `limit` bytes from the start; `complete` says whether that is the
   * whole body. Reads on from where an earlier scan stopped.
   */
  peek(limit: number): Promise<Peek> {
    return this.serially(async () => {
      while (this.headLength < limit && (await this.pull()) !== undefined) {
        // pull() keeps each chunk in head.
      }
      const bytes = concatBytes(this.head, this.headLength);
      return {
        bytes: bytes.subarray(0, Math.min(limit, bytes.byteLength)),
        complete: this.done && bytes.byteLength <= limit,
      };
    });
  }

  /**
   * forForwarding, except that a short unread rest (at most 64 KiB by the
   * declared Content-Length: a typical SAML post, read or not) is read first, so the
   * body goes on as one buffer instead of a stream piped behind the head — and a client
   * that hangs up is seen by that read (sourceError).
   */
  async forwardable(): Promise<BodyInit | null> {
    const rest = this.declaredLength === undefined ? Infinity : this.declaredLength - this.headLength;
    if (!this.done && rest <= SMALL_REST_BYTES) {
      await this.serially(async () => {
        while ((await this.pull()) !== undefined) {
          // pull() keeps each chunk in head; the runtime ends the body at its Content-Length.
        }
      });
    }
    return this.forForwarding();
  }

  /**
   * The body to forward: head + rest, unchanged. The rest is piped stream to stream by
   * the runtime (no JS per chunk: a 2 MiB post arrives in hundreds of chunks), behind the
   * held head — also when nothing was read: the pipe is what tells the source's failure
   * (the client hung up: sourceFailed) from the destination's (Auth0 stopped reading),
   * which the runtime's own streaming of a body reports as one and the same error
   * (src/client-gone.ts).
   */
  forForwarding(): BodyInit | null {
    const stream = this.stream;
    if (stream === null) return null;
    // One chunk read (an 8 KB post usually is one): sent as it is, not copied.
    const head =
      this.head.length === 1 ? (this.head[0] as Uint8Array<ArrayBuffer>) : concatBytes(this.head, this.headLength);
    if (this.done) return head;
    this.reader?.releaseLock();
    // Keep the declared Content-Length instead of switching to chunked encoding.
    const { readable, writable } =
      this.declaredLength === undefined ? new IdentityTransformStream() : new FixedLengthStream(this.declaredLength);
    void (async () => {
      if (head.byteLength > 0) {
        const writer = writable.getWriter();
        await writer.write(head);
        writer.releaseLock();
      }
      try {
        await stream.pipeTo(writable, { preventAbort: true });
      } catch (err) {
        // The source failed (then it is errored) or the destination did (then pipeTo
        // cancelled the source: a read ends at once). An aborted identity stream ends the
        // body as if complete, so whoever sends it on hears of a source failure first
        // (sourceFailed) and can cut its upload before the abort below.
        if (await isErrored(stream)) {
          this.fail(err);
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        await writable.abort(err);
      }
    })().catch(() => {
      // The client went away or the origin stopped reading; the forward reports it.
    });
    return readable;
  }

  /** The next chunk from the client (kept in head), or undefined at the end. */
  private async pull(): Promise<Uint8Array | undefined> {
    if (this.done || this.stream === null) return undefined;
    this.reader ??= this.openReader(this.stream);
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await this.read(this.reader);
    } catch (err) {
      this.fail(err);
      throw err;
    }
    const { done, value } = read;
    if (done) {
      this.done = true;
      return undefined;
    }
    this.head.push(value);
    this.headLength += value.byteLength;
    return value;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    this.onFailure?.(error);
    this.onFailure = undefined;
  }

  /**
   * A request body of declared length is read with a BYOB reader, up to BYOB_READ_BYTES at
   * a time: workerd hands a default reader 4 KiB chunks (an 8 KB post took three reads and
   * a copy to join them; now one read into one buffer). Any other stream: its own chunks.
   */
  private openReader(
    stream: ReadableStream<Uint8Array>,
  ): ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader {
    if (this.declaredLength !== undefined) {
      try {
        this.byob = stream.getReader({ mode: "byob" });
        return this.byob;
      } catch {
        // Not a byte stream.
      }
    }
    return stream.getReader();
  }

  private read(
    reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader,
  ): Promise<ReadableStreamReadResult<Uint8Array>> {
    const byob = this.byob;
    if (byob === undefined) return (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    // What the Content-Length says is left (at least 1: a read that finds the end).
    const size = Math.min(BYOB_READ_BYTES, Math.max(1, (this.declaredLength ?? 0) - this.headLength));
    const view = new Uint8Array(size);
    // workerd's readAtLeast waits for `size` bytes (or the end); elsewhere read() gives what is there.
    const { readAtLeast } = byob as ReadableStreamBYOBReader & { readAtLeast?: ReadAtLeast };
    return readAtLeast !== undefined ? readAtLeast.call(byob, size, view) : byob.read(view);
  }

  /** One reader at a time: a second scan or peek waits for the first. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.busy.then(work, work);
    this.busy = next.catch(() => undefined);
    return next;
  }
}

/** Whether `stream` (unlocked) is errored: a read rejects. A closed or cancelled one reads done. */
async function isErrored(stream: ReadableStream<Uint8Array>): Promise<boolean> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = stream.getReader();
  } catch {
    return false;
  }
  try {
    await reader.read();
    return false;
  } catch {
    return true;
  } finally {
    reader.releaseLock();
  }
}

export interface Peek {
  bytes: Uint8Array<ArrayBuffer>;
  complete: boolean;
}
