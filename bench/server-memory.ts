// The benchmark server's memory, read through the inspector protocol: the server runs with
// `--inspect=127.0.0.1:0` (loopback, a port of its own, only when the bench asks for memory
// figures), so no endpoint of the server itself has to expose them.
import { createWriteStream } from "node:fs";
import WebSocket from "ws";

export interface MemoryFigures {
  /** Resident set size, MB. */
  rss: number;
  /** V8 heap in use after a full collection, MB. */
  heapUsed: number;
  heapTotal: number;
  /** Memory of ArrayBuffers and Buffers outside the heap, MB. */
  external: number;
}

export interface ServerMemory {
  /** Collects garbage (twice: weak references cleared by the first are freed by the second), then reads process.memoryUsage(). */
  afterGc(): Promise<MemoryFigures>;
  /** Writes a heap snapshot of the server to `file` (open it in Chrome DevTools' Memory tab; compare two with "Comparison"). */
  snapshot(file: string): Promise<void>;
  close(): void;
}

/** The inspector's WebSocket URL from what node printed on stderr ("Debugger listening on ws://..."), if it printed it yet. */
export function inspectorUrl(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}

export async function connectServerMemory(url: string): Promise<ServerMemory> {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1024 ** 3 });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  let onChunk: ((chunk: string) => void) | undefined;
  socket.on("message", (raw) => {
    const msg = JSON.parse(String(raw)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { chunk: string } };
    if (msg.method === "HeapProfiler.addHeapSnapshotChunk") return onChunk?.(msg.params!.chunk);
    const waiter = msg.id !== undefined ? pending.get(msg.id) : undefined;
    if (!waiter) return;
    pending.delete(msg.id!);
    if (msg.error) waiter.reject(new Error(msg.error.message));
    else waiter.resolve(msg.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  return {
    async afterGc() {
      await call("HeapProfiler.collectGarbage");
      await call("HeapProfiler.collectGarbage");
      const r = (await call("Runtime.evaluate", { expression: "JSON.stringify(process.memoryUsage())", returnByValue: true })) as { result: { value: string } };
      const m = JSON.parse(r.result.value) as NodeJS.MemoryUsage;
      return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) };
    },
    async snapshot(file) {
      const out = createWriteStream(file);
      onChunk = (chunk) => out.write(chunk);
      await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      onChunk = undefined;
      await new Promise((resolve, reject) => out.end(resolve).once("error", reject));
    },
    close: () => socket.close(),
  };
}
