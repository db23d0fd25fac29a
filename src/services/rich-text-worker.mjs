// Worker entry for src/services/rich-text-offload.ts when running from the sources: plain
// JavaScript so that Node starts it as it is; it loads the TypeScript body (rich-text-worker.ts)
// through tsx. The production build replaces this file with the compiled body (dist/server/).
import { tsImport } from "tsx/esm/api";

await tsImport("./rich-text-worker.ts", import.meta.url);
