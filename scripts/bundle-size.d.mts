/** Types of scripts/bundle-size.mjs (plain JavaScript, so `node` runs it without a build step). */
export declare const ROUTER_GZIP_BUDGET: number;
export declare const ADMIN_ONLY: RegExp[];
export declare function adminOnlyInputs(metafile: {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}): string[];
export declare function uploadSize(dir: string): { file: string; raw: number; gzip: number };
