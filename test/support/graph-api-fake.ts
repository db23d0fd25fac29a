import http from "node:http";
import type { AddressInfo } from "node:net";

export interface GraphRequest {
  path: string;
  authorization: string | undefined;
  json: Record<string, any>;
  status: number;
}

/** A planned answer: a status with Meta's error body (`error`, default a temporary "(#2)"), headers, or the message id of a success. */
export interface GraphAnswer {
  status: number;
  error?: Record<string, unknown>;
  headers?: Record<string, string>;
  messageId?: string;
}

/**
 * A local HTTP server playing Meta's Graph API send endpoints: POST /{id}/messages answers like
 * Messenger ({ recipient_id, message_id: "m_<n>" }) or WhatsApp ({ messages: [{ id: "wamid.<n>" }] }),
 * or with the next failure status of `failNext` (and a Graph-style error body). Messenger Profile
 * API calls are recorded apart, in `profileRequests`.
 */
export async function startGraphApiFake() {
  const requests: GraphRequest[] = [];
  const profileRequests: GraphRequest[] = [];
  const plan: (number | GraphAnswer)[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const json = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      // Page profile settings (the Messenger greeting) are kept apart from message sends.
      if ((req.url ?? "").endsWith("/messenger_profile")) {
        profileRequests.push({ path: req.url ?? "", authorization: req.headers.authorization, json, status: 200 });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ result: "success" }));
        return;
      }
      const next = plan.shift() ?? 200;
      const answer: GraphAnswer = typeof next === "number" ? { status: next } : next;
      const status = answer.status;
      requests.push({ path: req.url ?? "", authorization: req.headers.authorization, json, status });
      res.writeHead(status, { "content-type": "application/json", ...answer.headers });
      if (status >= 300) res.end(JSON.stringify({ error: answer.error ?? { message: "(#2) Service temporarily unavailable", code: 2 } }));
      else if (json.messaging_product === "whatsapp") res.end(JSON.stringify({ messaging_product: "whatsapp", contacts: [{ input: json.to, wa_id: json.to }], messages: [{ id: answer.messageId ?? `wamid.fake${++n}` }] }));
      else res.end(JSON.stringify({ recipient_id: json.recipient?.id, message_id: answer.messageId ?? `m_fake${++n}` }));
      for (const w of [...waiters]) if (requests.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v19.0`,
    requests,
    /** Messenger Profile API calls (POST /{page-id}/messenger_profile), in order. */
    profileRequests,
    /** The next answers, in order: a status (errors get a temporary "(#2)" body) or a GraphAnswer. */
    failNext(...statuses: (number | GraphAnswer)[]) {
      plan.push(...statuses);
    },
    waitFor(count: number): Promise<void> {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n: count, resolve }));
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
