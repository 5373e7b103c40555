/**
 * bench/scan.ts runs src/callback/body.ts in Node, which names this workerd
 * global in a path the benchmark never takes (forwarding); declared here so
 * the bench project type-checks without the Workers types.
 */
declare class FixedLengthStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(expectedLength: number | bigint);
}
