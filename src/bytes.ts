/**
 * Byte helpers shared by the body scan (src/callback/body.ts) and affinity's
 * bounded readers (src/affinity/): one copy of the chunk-joining loop.
 */

/**
 * Joins stream chunks into one array.
 * @param chunks the chunks in order, as a ReadableStream reader gave them
 * @param length their total byte length (the caller already counts it to enforce its limit)
 * @returns a new Uint8Array of exactly `length` bytes
 */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
