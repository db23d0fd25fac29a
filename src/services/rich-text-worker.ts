// Worker thread body for src/services/rich-text-offload.ts: sanitizes large HTML (inbound email)
// off the event loop with the module the main thread uses. The build compiles this file to
// dist/server/rich-text-worker.mjs; from the sources, rich-text-worker.mjs loads it through tsx.
import { parentPort } from "node:worker_threads";
import { prepareEmailHtml } from "./rich-text.js";

parentPort!.on("message", ({ id, html, wantText }: { id: number; html: string; wantText: boolean }) => {
  try {
    parentPort!.postMessage({ id, result: prepareEmailHtml(html, wantText) });
  } catch (err) {
    parentPort!.postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
});
parentPort!.postMessage({ ready: true });
