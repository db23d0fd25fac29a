import type { Channel } from "../generated/prisma/client.js";
import type { Services } from "../context.js";
import { parseInboundEmail, type ParsedEmail } from "../transports/email/parse.js";
import { findEmailThread } from "../transports/email/threading.js";
import { verifySender, type AuthenticationResults, type SenderContext } from "../transports/email/authentication.js";
import { automatedReason, gmailForwardingConfirmation, spamVerdict, type AutomatedReason, type SpamVerdict } from "../transports/email/loops.js";
import { isOwnAddress } from "../transports/email/recipients.js";
import { removeAttachmentFiles, saveAttachmentFile } from "./attachments-store.js";
import { receiveInbound, type AttachmentInput, type InboundResult } from "./intake.js";
import { htmlToPlainText } from "./rich-text.js";
import { prepareEmailHtmlOffThread } from "./rich-text-offload.js";
import type { TeamEmailSettings } from "./channel-settings.js";
import { recordBounce, recordForwardingConfirmation } from "./email-bounces.js";
import { autoReply } from "./email-auto-reply.js";

export { MalformedEmailError } from "../transports/email/parse.js";

/** What became of one inbound email. */
export type EmailIntakeResult =
  /** A customer's message: landed (or had landed before: result.duplicate). */
  | { kind: "message"; result: InboundResult; autoReplied: boolean }
  /** A bounce: the outbound message it reports on is marked FAILED (null: none of ours matched, nothing stored). */
  | { kind: "bounce"; failedMessageId: string | null }
  /** Gmail's forwarding confirmation: kept on the channel for the admin (teamEmail.forwardingConfirmation). */
  | { kind: "forwarding-confirmation" };

/** The email's safety verdicts, stored on the message (metadata.email.authentication; Message.authenticationResults). */
export interface EmailVerdicts extends Partial<AuthenticationResults> {
  /** Set when the message is held back from automatic answers: a DMARC failure, spam, or automated mail. */
  flagged: boolean;
  /** Why it is flagged: "dmarc-fail", "spam" or an AutomatedReason. */
  reasons: string[];
  automated: AutomatedReason | null;
  spam: SpamVerdict | null;
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

async function verdictsOf(services: Services, raw: Buffer, mail: ParsedEmail, sender: SenderContext): Promise<EmailVerdicts> {
  const email = services.config.transports.email;
  const [auth, own] = await Promise.all([
    verifySender(email, raw, sender).catch((err) => {
      // A check that cannot run (a DNS failure) is no verdict against the sender: recorded, not refused.
      services.logger.warn({ component: "inbound-email", messageId: mail.messageId, err: { message: (err as Error).message } }, "sender verification failed");
      return null;
    }),
    isOwnAddress(services.prisma, mail.from.email, services.config.transports.smtpFromDomain),
  ]);
  const automated = automatedReason(mail, { envelopeFrom: sender.mailFrom, ownAddress: own });
  const spam = spamVerdict(mail);
  const reasons = [...(auth?.dmarc === "fail" ? ["dmarc-fail"] : []), ...(spam?.spam ? ["spam"] : []), ...(automated ? [automated] : [])];
  return { ...(auth ?? {}), flagged: reasons.length > 0, reasons, automated, spam };
}

/**
 * Receives one raw RFC 822 email for a team email channel (the caller checked it is live and ON):
 * the one intake of the HTTP route and the SMTP receiver. Throws MalformedEmailError for mail it
 * cannot take. Resolves once everything it wrote has committed (the SMTP receiver answers 250 then).
 *
 * - A bounce (DSN) marks the outbound message it reports on FAILED and opens no conversation.
 * - Gmail's forwarding confirmation is kept on the channel for the admin, not a conversation.
 * - Otherwise the message goes to receiveInbound, idempotent on its Message-ID: threaded by
 *   In-Reply-To/References, forwarded mail logged on the original sender unless the channel's
 *   logToOriginalSender is off, with SPF/DKIM/DMARC and spam verdicts stored on it. Flagged mail
 *   (DMARC failure, spam, automated senders) gets no owner notification and no auto-reply.
 */
export async function receiveEmail(services: Services, channel: Channel, raw: Buffer, sender: SenderContext = {}): Promise<EmailIntakeResult> {
  const mail = await parseInboundEmail(raw);
  const { prisma } = services;
  if (mail.report) return { kind: "bounce", failedMessageId: await recordBounce(services, channel, mail) };
  const confirmation = gmailForwardingConfirmation(mail);
  if (confirmation) {
    await recordForwardingConfirmation(prisma, channel, confirmation);
    return { kind: "forwarding-confirmation" };
  }

  const settings = (channel.settings ?? {}) as Partial<TeamEmailSettings>;
  const verdicts = await verdictsOf(services, raw, mail, sender);
  const forwarded = mail.forwarded;
  // Auto-forwarding and Resent-* keep the original in From: it is the sender either way unless turned off.
  const useOriginal = settings.logToOriginalSender !== false && !!forwarded;
  const contactSender = forwarded ? (useOriginal ? forwarded.original : forwarded.via === "auto" ? forwarded.original : forwarded.by) : mail.from;
  const threadKey = (await findEmailThread(prisma, channel.accountId, channel.id, mail.threadIds)) ?? mail.messageId;
  // The customer's HTML is rendered to agents: only the rich-text allowlist is stored, sanitized off
  // the event loop when large; HTML past EMAIL_RICH_TEXT_LIMITS is not kept (the text is).
  const html = mail.html ? await prepareEmailHtmlOffThread(mail.html, !mail.text) : null;
  if (html?.dropped) services.logger.warn({ component: "inbound-email", messageId: mail.messageId, reason: html.dropped }, "HTML not kept");
  const text = mail.text ?? html?.text ?? (mail.html ? htmlToPlainText(mail.html) : null);
  const { stored, skipped } = await storeAttachments(services, channel.accountId, mail);
  const note = skipped.length ? `\n\n[${skipped.length} attachment(s) over ${services.config.transports.maxAttachmentBytes} bytes not kept: ${skipped.map((s) => s.name).join(", ")}]` : "";
  // An email whose HTML was not kept stays available whole, as received (Message.originalEmail).
  const original = html?.dropped ? { storageKey: await saveAttachmentFile(services.config, channel.accountId, raw), size: raw.length } : undefined;
  const keys = [...stored.map((a) => a.storageKey!), ...(original ? [original.storageKey] : [])];
  try {
    const result = await receiveInbound(prisma, {
      accountId: channel.accountId,
      channel,
      externalId: mail.messageId,
      threadKey,
      sender: { name: contactSender.name, email: contactSender.email },
      subject: mail.subject,
      text: (text ?? "") + note || null,
      richText: html?.richText ?? null,
      attachments: stored,
      suppressNotifications: verdicts.flagged,
      originalEmail: original,
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
          authentication: verdicts,
          ...(forwarded ? { forwarded: { via: forwarded.via, by: forwarded.by, original: forwarded.original } } : {}),
          ...(useOriginal && forwarded!.via !== "auto" ? { forwardedBy: forwarded!.by } : {}),
          ...(skipped.length ? { skippedAttachments: skipped } : {}),
          ...(html?.dropped ? { htmlDropped: html.dropped } : {}),
        },
      },
    });
    // Received before (a retry, or a concurrent delivery that won the race): its files are the ones
    // kept. No check came first: receiveInbound's unique key decides, so a new message pays nothing
    // for it. A retry after a crash between the intake and its auto-reply finishes the auto-reply (once).
    if (result.duplicate) await removeAttachmentFiles(services.config, keys);
    return { kind: "message", result, autoReplied: await autoReply(services, channel, result) };
  } catch (err) {
    await removeAttachmentFiles(services.config, keys);
    throw err;
  }
}
