import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, any>;
  status: number;
}

/**
 * A local HTTP endpoint standing in for a partner's webhook. Answers each request with the next
 * status of `plan` (then 200), records every request, and lets a test wait for the n-th one.
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  const plan: number[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const status = plan.shift() ?? 200;
      received.push({ headers: req.headers, body, json: JSON.parse(body || "{}"), status });
      res.writeHead(status).end(status < 300 ? "ok" : "nope");
      for (const w of [...waiters]) if (received.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    /** Status codes for the next requests, in order (200 after they run out). */
    failNext(...statuses: number[]) {
      plan.push(...statuses);
    },
    /** Resolves once `n` requests in total have arrived. */
    waitFor(n: number): Promise<void> {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
