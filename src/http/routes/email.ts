import { createHash, timingSafeEqual } from "node:crypto";
import type { TransportHandler } from "../transports.js";
import { readBodyOr413, sendJson } from "../read-body.js";
import { bearerToken } from "../../context.js";
import { fromGlobalId, toGlobalId } from "../../schema/ids.js";
import { MalformedEmailError, parseInboundEmail, type ParsedEmail } from "../../transports/email/parse.js";
import { findEmailThread } from "../../transports/email/threading.js";
import { removeAttachmentFiles, saveAttachmentFile } from "../../services/attachments-store.js";
import { receiveInbound, type AttachmentInput } from "../../services/intake.js";
import { htmlToPlainText } from "../../services/rich-text.js";
import { prepareEmailHtmlOffThread } from "../../services/rich-text-offload.js";
import type { TeamEmailSettings } from "../../services/channel-settings.js";
import type { Services } from "../../context.js";

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
 * Keeps attachments within MAX_ATTACHMENT_BYTES each: oversized ones are SKIPPED (the message
 * still lands, with a note in its text and metadata) rather than bouncing the customer's email.
 * The whole message is already bounded by MAX_EMAIL_BYTES.
 */
async function storeAttachments(services: Services, accountId: string, mail: ParsedEmail) {
  const stored: AttachmentInput[] = [];
  const skipped: { name: string; size: number }[] = [];
  for (const a of mail.attachments) {
    if (a.content.length > services.config.transports.maxAttachmentBytes) {
      skipped.push({ name: a.name, size: a.content.length });
      continue;
    }
    const storageKey = await saveAttachmentFile(services.config, accountId, a.content);
    stored.push({ kind: a.kind, storageKey, name: a.name, mimeType: a.mimeType.slice(0, 255), size: a.content.length });
  }
  return { stored, skipped };
}

/**
 * POST /inbound/email/<channel id> with a raw RFC 822 message (content-type message/rfc822),
 * authenticated by `Authorization: Bearer <the channel's inbound secret>` (shown once at connect).
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
  if (!secretMatches(bearerToken(req.headers.authorization), channel.inboundSecretHash)) return sendJson(res, 401, { error: "invalid_secret" }, { "www-authenticate": "Bearer" });
  if (channel.status !== "ON") return sendJson(res, 409, { error: "channel_off" });
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "message/rfc822") return sendJson(res, 415, { error: "expected content-type message/rfc822" });

  const raw = await readBodyOr413(req, res, services.config.transports.maxEmailBytes);
  if (!raw) return;
  let mail: ParsedEmail;
  try {
    mail = await parseInboundEmail(raw);
  } catch (err) {
    if (err instanceof MalformedEmailError) return sendJson(res, 400, { error: "malformed_email", message: err.message });
    throw err;
  }

  const ids = (r: { message: { id: string }; conversation: { id: string } }) => ({ messageId: toGlobalId("Message", r.message.id), conversationId: toGlobalId("Conversation", r.conversation.id) });
  const seen = await services.prisma.message.findUnique({ where: { accountId_channelId_externalId: { accountId: channel.accountId, channelId: channel.id, externalId: mail.messageId } }, select: { id: true, conversationId: true } });
  if (seen) return sendJson(res, 200, { messageId: toGlobalId("Message", seen.id), conversationId: toGlobalId("Conversation", seen.conversationId), duplicate: true });

  const settings = (channel.settings ?? {}) as Partial<TeamEmailSettings>;
  const useOriginal = settings.logToOriginalSender !== false && !!mail.forwardedFrom;
  const sender = useOriginal ? mail.forwardedFrom! : mail.from;
  const threadKey = (await findEmailThread(services.prisma, channel.accountId, channel.id, mail.threadIds)) ?? mail.messageId;
  // The customer's HTML is rendered to agents: only the rich-text allowlist is stored, sanitized off
  // the event loop when large; HTML past EMAIL_RICH_TEXT_LIMITS is not kept (the text is).
  const html = mail.html ? await prepareEmailHtmlOffThread(mail.html, !mail.text) : null;
  if (html?.dropped) console.warn(`[inbound email] ${mail.messageId}: HTML not kept (${html.dropped})`);
  const text = mail.text ?? html?.text ?? (mail.html ? htmlToPlainText(mail.html) : null);
  const { stored, skipped } = await storeAttachments(services, channel.accountId, mail);
  const note = skipped.length ? `\n\n[${skipped.length} attachment(s) over ${services.config.transports.maxAttachmentBytes} bytes not kept: ${skipped.map((s) => s.name).join(", ")}]` : "";
  const keys = stored.map((a) => a.storageKey!);
  try {
    const result = await receiveInbound(services.prisma, {
      accountId: channel.accountId,
      channel,
      externalId: mail.messageId,
      threadKey,
      sender: { name: sender.name, email: sender.email },
      subject: mail.subject,
      text: (text ?? "") + note || null,
      richText: html?.richText ?? null,
      attachments: stored,
      metadata: {
        email: {
          messageId: mail.messageId,
          from: mail.from,
          to: mail.to,
          cc: mail.cc,
          subject: mail.subject,
          date: mail.date?.toISOString() ?? null,
          inReplyTo: mail.inReplyTo,
          references: mail.references,
          ...(useOriginal ? { forwardedBy: mail.from } : {}),
          ...(skipped.length ? { skippedAttachments: skipped } : {}),
          ...(html?.dropped ? { htmlDropped: html.dropped } : {}),
        },
      },
    });
    // A concurrent delivery of the same Message-ID won the race: its files are the ones kept.
    if (result.duplicate) await removeAttachmentFiles(services.config, keys);
    return sendJson(res, result.duplicate ? 200 : 202, { ...ids(result), duplicate: result.duplicate });
  } catch (err) {
    await removeAttachmentFiles(services.config, keys);
    throw err;
  }
};
