import type { IncomingMessage, ServerResponse } from "node:http";
import type { TransportHandler } from "../transports.js";
import { readBodyOr413, sendJson } from "../read-body.js";
import { checkMetaSignature } from "../../transports/meta/signature.js";
import { handleMessengerWebhook } from "../../transports/meta/messenger.js";
import { handleWhatsAppWebhook } from "../../transports/meta/whatsapp.js";
import type { Services } from "../../context.js";
import { timingSafeEqual } from "node:crypto";
import { storableDeep, TooDeepError } from "../../transports/storable-text.js";

/** Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours. */
function verifyHandshake(res: ServerResponse, services: Services, url: URL) {
  const expected = services.config.transports.metaVerifyToken;
  const given = url.searchParams.get("hub.verify_token") ?? "";
  const ok =
    url.searchParams.get("hub.mode") === "subscribe" &&
    !!expected &&
    Buffer.byteLength(given) === Buffer.byteLength(expected) &&
    timingSafeEqual(Buffer.from(given), Buffer.from(expected));
  if (!ok) return sendJson(res, 403, { error: "verification_failed" });
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(url.searchParams.get("hub.challenge") ?? "");
}

/**
 * The raw body of a Meta webhook, once its X-Hub-Signature-256 matches META_APP_SECRET: a missing
 * signature is 401, a wrong one 403, and nothing is read into the database either way.
 */
async function signedJson(req: IncomingMessage, res: ServerResponse, services: Services, object: string): Promise<Record<string, unknown> | null> {
  const raw = await readBodyOr413(req, res, services.config.limits.maxBodyBytes);
  if (!raw) return null;
  const check = checkMetaSignature(services.config.transports.metaAppSecret, raw, req.headers["x-hub-signature-256"]);
  if (check !== "ok") {
    sendJson(res, check === "missing" ? 401 : 403, { error: check === "missing" ? "missing_signature" : "invalid_signature" });
    return null;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    sendJson(res, 400, { error: "invalid_json" });
    return null;
  }
  if (!body || typeof body !== "object" || (body as { object?: unknown }).object !== object) {
    sendJson(res, 400, { error: `expected object "${object}"` });
    return null;
  }
  try {
    // Customers' text goes to the database: NUL and unpaired surrogates are dropped (README, "Bad input").
    return storableDeep(body as Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof TooDeepError)) throw err;
    // Signed, so Meta's: acknowledged (a retry would not parse any better) and logged.
    services.logger.warn({ component: "meta-webhook", reason: err.message }, "skipped a body");
    sendJson(res, 200, { received: true, messages: 0, receipts: 0, ignored: 0, malformed: 1 });
    return null;
  }
}

function webhook(path: string, object: string, handle: (services: Services, body: Record<string, unknown>) => Promise<object>): TransportHandler {
  return async (req, res, { services, url }) => {
    if (url.pathname.replace(/\/$/, "") !== path) return sendJson(res, 404, { error: "not_found" });
    if (req.method === "GET") return verifyHandshake(res, services, url);
    if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" }, { allow: "GET, POST" });
    const body = await signedJson(req, res, services, object);
    if (!body) return;
    // Meta retries anything but a 200: events are processed before answering, and intake is
    // idempotent on the message ids, so a retried delivery stores nothing twice. Items of the
    // wrong shape are skipped and counted (webhook-shapes.ts): a retry would not parse better.
    const counts = await handle(services, body);
    sendJson(res, 200, { received: true, ...counts });
  };
}

/** GET (verification) and POST (signed events) /webhooks/messenger: Messenger Platform webhooks. */
export const handleMessengerRoute = webhook("/webhooks/messenger", "page", (services, body) => handleMessengerWebhook(services.prisma, body, services.config.outbound));

/** GET (verification) and POST (signed events) /webhooks/whatsapp: WhatsApp Cloud API webhooks. */
export const handleWhatsAppRoute = webhook("/webhooks/whatsapp", "whatsapp_business_account", (services, body) => handleWhatsAppWebhook(services.prisma, services.config.transports, body));
