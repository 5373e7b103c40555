/**
 * bench/scan.ts runs src/callback/body.ts in Node, which names these workerd
 * globals in a path the benchmark never takes (forwarding); declared here so
 * the bench project type-checks without the Workers types.
 */
declare class IdentityTransformStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor();
}
declare class FixedLengthStream extends IdentityTransformStream {
  constructor(expectedLength: number | bigint);
}
