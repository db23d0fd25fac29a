// Types for scripts/build.mjs (plain JavaScript so that `npm start` runs without tsx).
export declare const ROOT: string;
export declare function inputHash(root?: string): string;
export declare function inputStamp(root?: string): string;
export declare function buildIsCurrent(outDir?: string, root?: string): boolean;
export declare function build(opts?: { outDir?: string; log?: (line: string) => void }): Promise<void>;
