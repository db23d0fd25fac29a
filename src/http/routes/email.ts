import { createHash, timingSafeEqual } from "node:crypto";
import type { TransportHandler } from "../transports.js";
import { readBodyOr413, sendJson } from "../read-body.js";
import { bearerToken } from "../../context.js";
import { fromGlobalId, toGlobalId } from "../../schema/ids.js";
import { MalformedEmailError, receiveEmail } from "../../services/email-intake.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A raw database id or a global Channel id; null when it is neither. */
function channelIdOf(segment: string): string | null {
  if (UUID.test(segment)) return segment;
  try {
    return fromGlobalId(segment, "Channel");
  } catch {
    return null;
  }
}

/** sha256(given) against the stored hash, in constant time. */
function secretMatches(given: string | undefined, storedHash: string | null): boolean {
  if (!given || !storedHash) return false;
  const a = createHash("sha256").update(given).digest();
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * POST /inbound/email/<channel id> with a raw RFC 822 message (content-type message/rfc822),
 * authenticated by `Authorization: Bearer <the channel's inbound secret>` (shown once at connect),
 * or SendGrid Inbound Parse's shape: multipart/form-data with the raw message in its `email` field
 * ("POST the raw, full MIME message"), the secret as the Basic password. The same intake as the
 * SMTP receiver (services/email-intake.ts): bounces mark the reply FAILED (202 bounce: true),
 * Gmail's forwarding confirmation is kept on the channel (202 forwardingConfirmation: true).
 *
 * Answers: 202 with the message and conversation ids (200 with duplicate: true for a Message-ID
 * already received); 401 wrong or missing secret; 404 unknown channel; 409 channel OFF; 413 body
 * over MAX_EMAIL_BYTES (before parsing); 415 wrong content type; 400 malformed MIME or no From;
 * 404 also for a path segment that is no channel id at all. Text PostgreSQL cannot store (NUL,
 * unpaired surrogates) is dropped from the message rather than refused (parse.ts).
 * Refused messages store nothing. Threads by In-Reply-To/References; forwarded mail is logged on
 * the original sender when the channel's logToOriginalSender is on (the default).
 */
export const handleInboundEmail: TransportHandler = async (req, res, { services, url }) => {
  if (req.method !== "POST") return sendJson(res, 405, { error: "method_not_allowed" }, { allow: "POST" });
  const channelId = channelIdOf(decodeURIComponent(url.pathname.slice("/inbound/email/".length).replace(/\/$/, "")));
  const channel = channelId ? await services.prisma.channel.findFirst({ where: { id: channelId, type: "TEAM_EMAIL", deletedAt: null } }) : null;
  if (!channel) return sendJson(res, 404, { error: "unknown_channel" });
  if (!secretMatches(inboundSecret(req.headers.authorization), channel.inboundSecretHash)) return sendJson(res, 401, { error: "invalid_secret" }, { "www-authenticate": 'Bearer, Basic realm="inbound email"' });
  if (channel.status !== "ON") return sendJson(res, 409, { error: "channel_off" });
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "message/rfc822" && type !== "multipart/form-data") return sendJson(res, 415, { error: "expected content-type message/rfc822 (or SendGrid Inbound Parse's multipart/form-data)" });

  // The form's other fields and its encoding take room beside the message: twice the limit bounds the read.
  const body = await readBodyOr413(req, res, services.config.transports.maxEmailBytes * (type === "multipart/form-data" ? 2 : 1));
  if (!body) return;
  const raw = type === "multipart/form-data" ? await sendGridRawMessage(req.headers["content-type"]!, body) : body;
  if (!raw) return sendJson(res, 400, { error: "malformed_email", message: 'No "email" field: turn on "POST the raw, full MIME message" in the Inbound Parse settings' });
  if (raw.length > services.config.transports.maxEmailBytes) return sendJson(res, 413, { error: "payload_too_large", limit: services.config.transports.maxEmailBytes });
  let received;
  try {
    received = await receiveEmail(services, channel, raw);
  } catch (err) {
    if (err instanceof MalformedEmailError) return sendJson(res, 400, { error: "malformed_email", message: err.message });
    throw err;
  }
  if (received.kind === "bounce") return sendJson(res, 202, { bounce: true, failedMessageId: received.failedMessageId ? toGlobalId("Message", received.failedMessageId) : null });
  if (received.kind === "forwarding-confirmation") return sendJson(res, 202, { forwardingConfirmation: true });
  const { result } = received;
  return sendJson(res, result.duplicate ? 200 : 202, { messageId: toGlobalId("Message", result.message.id), conversationId: toGlobalId("Conversation", result.conversation.id), duplicate: result.duplicate });
};

/**
 * The channel secret of an inbound call: `Bearer <secret>`, or Basic with the secret as password
 * (providers such as SendGrid take credentials only in the URL: https://inbound:<secret>@host/...).
 */
function inboundSecret(authorization: string | undefined): string | undefined {
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? "");
  if (!basic) return bearerToken(authorization);
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  return decoded.includes(":") ? decoded.slice(decoded.indexOf(":") + 1) : undefined;
}

/** SendGrid Inbound Parse with "POST the raw, full MIME message": the message is the form's `email` field. */
async function sendGridRawMessage(contentType: string, body: Buffer): Promise<Buffer | null> {
  try {
    const form = await new Request("http://inbound.invalid/", { method: "POST", headers: { "content-type": contentType }, body: new Uint8Array(body) }).formData();
    const email = form.get("email");
    if (email === null) return null;
    return typeof email === "string" ? Buffer.from(email, "utf8") : Buffer.from(await email.arrayBuffer());
  } catch {
    return null;
  }
}
