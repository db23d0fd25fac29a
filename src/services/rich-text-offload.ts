import { Worker } from "node:worker_threads";
import { prepareEmailHtml, type EmailHtml } from "./rich-text.js";

/**
 * Sanitizing HTML costs the event loop ~1-2 ms per 1,000 characters (sanitize-html walks every
 * tag), so an inbound email's HTML larger than OFFLOAD_ABOVE_CHARS is sanitized in one worker
 * thread, started on first use and kept (unref'd: it never keeps the process alive). Bodies queue
 * there one by one; a body that takes longer than WORKER_TIMEOUT_MS costs the worker (it is
 * terminated and started again on the next use) and keeps its text only. If no worker can be
 * started (e.g. a bundled build without the worker file), the work runs on the main thread.
 */
const OFFLOAD_ABOVE_CHARS = 16_000;
const WORKER_TIMEOUT_MS = 15_000;

interface Pending {
  resolve: (value: EmailHtml) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

let worker: Worker | null = null;
let ready: Promise<boolean> | null = null;
let nextId = 0;
const pending = new Map<number, Pending>();

function failAll(err: Error) {
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.reject(err);
    pending.delete(id);
  }
}

function stopWorker(err: Error) {
  const w = worker;
  worker = null;
  ready = null;
  failAll(err);
  void w?.terminate();
}

/** The worker, started if needed; false when it cannot start here. */
function startedWorker(): Promise<boolean> {
  if (ready) return ready;
  ready = new Promise<boolean>((resolve) => {
    let w: Worker;
    try {
      w = new Worker(new URL("./rich-text-worker.mjs", import.meta.url));
    } catch {
      return resolve(false);
    }
    worker = w;
    w.unref();
    w.on("message", (msg: { ready?: true; id?: number; result?: EmailHtml; error?: string }) => {
      if (msg.ready) return resolve(true);
      const p = pending.get(msg.id!);
      if (!p) return;
      pending.delete(msg.id!);
      clearTimeout(p.timer);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result!);
    });
    w.on("error", (err) => {
      resolve(false);
      if (worker === w) stopWorker(err);
    });
    w.on("exit", () => {
      resolve(false);
      if (worker === w) stopWorker(new Error("The rich-text worker stopped"));
    });
  });
  return ready;
}

/**
 * prepareEmailHtml (sanitized HTML, readable text when `wantText`, or why the HTML was dropped),
 * off the event loop for large bodies. A body the worker could not finish in time keeps its text
 * only (`dropped` says so); it never throws for the HTML's sake.
 */
export async function prepareEmailHtmlOffThread(html: string, wantText: boolean): Promise<EmailHtml> {
  if (html.length <= OFFLOAD_ABOVE_CHARS || !(await startedWorker()) || !worker) return prepareEmailHtml(html, wantText);
  const w = worker;
  const id = ++nextId;
  try {
    return await new Promise<EmailHtml>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (worker === w) stopWorker(new Error(`Sanitizing took longer than ${WORKER_TIMEOUT_MS} ms`));
      }, WORKER_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      w.postMessage({ id, html, wantText });
    });
  } catch (err) {
    return { richText: null, text: null, dropped: `HTML not sanitized: ${(err as Error).message}` };
  }
}
