// Worker thread for src/services/rich-text-offload.ts: sanitizes large HTML (inbound email) off
// the event loop. Plain JavaScript so that Node starts it as it is; it loads the TypeScript policy
// through tsx, exactly the module the main thread uses.
import { parentPort } from "node:worker_threads";
import { tsImport } from "tsx/esm/api";

const { prepareEmailHtml } = await tsImport("./rich-text.ts", import.meta.url);

parentPort.on("message", ({ id, html, wantText }) => {
  try {
    parentPort.postMessage({ id, result: prepareEmailHtml(html, wantText) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err?.message ?? err) });
  }
});
parentPort.postMessage({ ready: true });
