import { createHash } from "node:crypto";
import { simpleParser, type AddressObject, type Attachment as MimeAttachment, type ParsedMail } from "mailparser";
import type { AttachmentKind } from "../../generated/prisma/client.js";
import { storableDeep, storableText, truncateText } from "../storable-text.js";

/** The raw message is not an email we can take (unparsable, or no sender): answered with 400. */
export class MalformedEmailError extends Error {}

export interface EmailAddress {
  name: string | null;
  email: string;
}

export interface ParsedAttachment {
  kind: AttachmentKind;
  name: string;
  mimeType: string;
  content: Buffer;
}

/** What the inbound email endpoint needs from one raw RFC 822 message. */
export interface ParsedEmail {
  /** The Message-ID with its angle brackets; generated from the body's hash when the message has none (so retries stay idempotent). */
  messageId: string;
  from: EmailAddress;
  to: EmailAddress[];
  cc: EmailAddress[];
  subject: string | null;
  /** The text part; null when the message has none (see `html`: its text is then derived from it). */
  text: string | null;
  html: string | null;
  /** In-Reply-To then References, newest first, without duplicates: the ids to thread on. */
  threadIds: string[];
  inReplyTo: string | null;
  references: string[];
  date: Date | null;
  attachments: ParsedAttachment[];
  /** The original sender of a forwarded message (forward block or attached message/rfc822), if any. */
  forwardedFrom: EmailAddress | null;
  /** How the message was forwarded, with the original sender and who forwarded it (see forwardingOf). */
  forwarded: Forwarding | null;
  /** Every header field by lower-case name, values unfolded and in order (the loop and spam checks read them). */
  headers: Map<string, string[]>;
  /** A delivery status notification (bounce): what failed, and the Message-ID of the message that bounced. */
  report: DeliveryReport | null;
}

/**
 * A forwarded message: `original` wrote it, `by` forwarded it. `via`: "resent" (Resent-From: the
 * message is the original, resent), "attached" (a message/rfc822 part), "inline" (a forwarded
 * block in the text under a Fwd:/FW: subject), "auto" (the mailbox's own forwarding rule: Gmail's
 * X-Forwarded-For, Outlook's X-MS-Exchange-Organization-AutoForwarded; From stays the original).
 */
export interface Forwarding {
  original: EmailAddress;
  by: EmailAddress;
  via: "resent" | "attached" | "inline" | "auto";
}

/** What a DSN (RFC 3464, multipart/report; report-type=delivery-status) says, or a mailer daemon's plain bounce. */
export interface DeliveryReport {
  /** failed, delayed, delivered, relayed, expanded (RFC 3464 Action); null when the report does not say. */
  action: string | null;
  /** The enhanced status code (5.1.1) when given. */
  status: string | null;
  /** The remote server's answer (Diagnostic-Code), else the report's text, shortened. */
  diagnostic: string | null;
  recipient: string | null;
  /** The Message-ID of the message that bounced (from the returned headers), if found. */
  originalMessageId: string | null;
}

const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

function addresses(field: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list
    .flatMap((a) => a.value)
    .flatMap((v) => (v.group ? v.group : [v]))
    .filter((v) => v.address && EMAIL.test(v.address) && storableText(v.address) === v.address && v.address.length <= 254)
    .map((v) => ({ name: truncateText(storableText(v.name ?? "").trim(), 200) || null, email: v.address!.trim().toLowerCase() }));
}

/** Longest Message-ID kept (RFC 5322 allows 998-character lines; real ids are well under 255). */
const MAX_MESSAGE_ID = 255;
/** A usable Message-ID: `<...>` with no spaces or brackets inside, storable, at most MAX_MESSAGE_ID characters. */
const isUsableId = (s: string) => s.length <= MAX_MESSAGE_ID && /^<[^<>\s]+>$/.test(s) && storableText(s) === s;
const ids = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v ? v.split(/\s+/) : []).map((s) => s.trim()).filter(isUsableId);
/** How many References are kept (the newest): threading looks at 100 at most. */
const MAX_REFERENCES = 100;

function attachmentKind(mimeType: string): AttachmentKind {
  if (mimeType.startsWith("image/")) return "IMAGE";
  if (mimeType.startsWith("audio/")) return "AUDIO";
  if (mimeType.startsWith("video/")) return "VIDEO";
  return "FILE";
}

const FORWARD_SUBJECT = /^\s*(fwd?|fw|tr|wg|rv|i)\s*:/i;
// Gmail, Apple Mail, Outlook and Thunderbird markers, then the header block's From line.
const FORWARD_MARKER = /^[ \t>]*(-{2,}\s*(forwarded message|original message|messaggio inoltrato|message transféré|mensagem encaminhada|wiadomość przekazana)\s*-{2,}|begin forwarded message:|_{10,})\s*$/im;

/** `Name <a@b.c>`, `"Name" <a@b.c>`, `Name [mailto:a@b.c]` or a bare `a@b.c`. */
export function parseAddressLine(line: string): EmailAddress | null {
  const value = line.replace(/^\s*\**from:?\**\s*/i, "").trim();
  const angled = /^(.*?)\s*[<[](?:mailto:)?([^>\]\s]+)[>\]]\s*$/i.exec(value);
  const [name, email] = angled ? [angled[1].replace(/^["']|["']$/g, "").trim(), angled[2]] : ["", value];
  return EMAIL.test(email) ? { name: name || null, email: email.toLowerCase() } : null;
}

/** The From line of the first forwarded-message block in a text body. */
function forwardBlockSender(text: string): EmailAddress | null {
  const marker = FORWARD_MARKER.exec(text);
  if (!marker) return null;
  const after = text.slice(marker.index + marker[0].length).split(/\r?\n/).slice(0, 12);
  const from = after.find((l) => /^[ \t>]*\**(from|de|da|von|od)\**\s*:/i.test(l));
  return from ? parseAddressLine(from.replace(/^[ \t>]*\**(from|de|da|von|od)\**\s*:\s*/i, "From: ")) : null;
}

async function forwardedSender(mail: ParsedMail): Promise<EmailAddress | null> {
  const attached = mail.attachments.find((a) => a.contentType === "message/rfc822");
  if (attached) {
    const inner = await simpleParser(attached.content).catch(() => null);
    const from = inner ? addresses(inner.from)[0] : undefined;
    if (from) return from;
  }
  if (mail.subject && FORWARD_SUBJECT.test(mail.subject) && mail.text) return forwardBlockSender(mail.text);
  return null;
}

/** Header fields by lower-case name, each value unfolded (line breaks inside a field removed). */
function headerMap(mail: ParsedMail): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const { key, line } of mail.headerLines ?? []) {
    const value = storableText(line.slice(line.indexOf(":") + 1).replace(/\r?\n[ \t]+/g, " ").trim());
    const list = map.get(key.toLowerCase());
    if (list) list.push(value);
    else map.set(key.toLowerCase(), [value]);
  }
  return map;
}

/** Resent-*, then auto-forwarding headers, then an attached or inline forwarded message (see Forwarding). */
async function forwardingOf(mail: ParsedMail, headers: Map<string, string[]>, from: EmailAddress): Promise<Forwarding | null> {
  // The newest Resent block is the first one (RFC 5322 3.6.6): its sender forwarded this copy.
  const resent = headers.get("resent-from")?.[0] ?? headers.get("resent-sender")?.[0];
  const resentBy = resent ? parseAddressLine(resent) : null;
  if (resentBy && resentBy.email !== from.email) return { original: from, by: resentBy, via: "resent" };
  const gmail = headers.get("x-forwarded-for")?.[0]?.split(/\s+/)[0];
  const autoBy = gmail ? parseAddressLine(gmail) : null;
  if (autoBy) return { original: from, by: autoBy, via: "auto" };
  if (headers.get("x-ms-exchange-organization-autoforwarded")?.[0]?.toLowerCase() === "true") {
    const to = addresses(mail.to)[0];
    if (to) return { original: from, by: to, via: "auto" };
  }
  const inner = await forwardedSender(mail);
  if (inner) return { original: inner, by: from, via: mail.attachments.some((a) => a.contentType === "message/rfc822") ? "attached" : "inline" };
  return null;
}

const DSN_FIELD = (name: string) => new RegExp(`^${name}:[ \\t]*(.+(?:\\r?\\n[ \\t]+.+)*)`, "im");

/** The delivery report of a bounce: a multipart/report of delivery-status, or a mailer daemon's mail with DSN fields. */
function deliveryReportOf(mail: ParsedMail, from: EmailAddress): DeliveryReport | null {
  const type = mail.headers.get("content-type") as { value?: string; params?: Record<string, string> } | undefined;
  const isReport = type?.value === "multipart/report" && (type.params?.["report-type"] ?? "").toLowerCase() === "delivery-status";
  const daemon = /^(mailer-daemon|postmaster)$/i.test(from.email.split("@")[0]);
  const text = mail.text ?? "";
  const field = (name: string) => DSN_FIELD(name).exec(text)?.[1].replace(/\s+/g, " ").trim() ?? null;
  const action = field("Action")?.toLowerCase() ?? null;
  if (!isReport && !(daemon && (action || field("Status")))) return null;
  // The returned message (or its headers) names the Message-ID that bounced.
  const returned = mail.attachments.find((a) => a.contentType === "message/rfc822" || a.contentType === "text/rfc822-headers");
  const returnedText = returned ? returned.content.toString("utf8") : text;
  const original = /^(?:original-)?message-id:[ \t]*(<[^<>\s]+>)/im.exec(returnedText)?.[1] ?? /^X-Original-Message-ID:[ \t]*(<[^<>\s]+>)/im.exec(text)?.[1] ?? null;
  const diagnostic = field("Diagnostic-Code")?.replace(/^smtp;\s*/i, "") ?? (text.trim().slice(0, 300) || null);
  const recipient = field("Final-Recipient")?.replace(/^rfc822;\s*/i, "") ?? null;
  return {
    action,
    status: field("Status")?.match(/^[245]\.\d{1,3}\.\d{1,3}/)?.[0] ?? null,
    diagnostic: diagnostic ? truncateText(storableText(diagnostic), 500) : null,
    recipient: recipient ? truncateText(storableText(recipient), 254) : null,
    originalMessageId: original && isUsableId(original) ? original : null,
  };
}

function toAttachment(a: MimeAttachment, i: number): ParsedAttachment {
  const mimeType = truncateText(storableText(a.contentType || ""), 255) || "application/octet-stream";
  // A file name is only shown (files are stored under their own key): storable, at most 255 characters.
  const name = truncateText(storableText(a.filename ?? "").trim(), 255) || (mimeType === "message/rfc822" ? "forwarded-message.eml" : `attachment-${i + 1}`);
  return { kind: attachmentKind(mimeType), name, mimeType, content: a.content };
}

/**
 * Parses one raw RFC 822 message with mailparser. A message without a usable From address (which
 * also covers bytes that are not an email at all) is a MalformedEmailError. Text PostgreSQL cannot
 * store is dropped from every field (NUL removed, unpaired surrogates replaced: storable-text.ts);
 * a Message-ID that is not usable (malformed, unstorable, over 255 characters) is replaced by
 * the generated one, and unusable In-Reply-To/References ids are left out. The HTML is returned
 * as it came: the route sanitizes it (off the event loop when large) and derives the text of a
 * message that has no text part from it.
 */
export async function parseInboundEmail(raw: Buffer): Promise<ParsedEmail> {
  let mail: ParsedMail;
  try {
    // No HTML-to-text conversion here: it runs unbounded on the event loop (seconds for deeply
    // nested HTML); the route derives text from the HTML within its limits.
    mail = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipHtmlToText: true });
  } catch (err) {
    throw new MalformedEmailError(`Unparsable MIME: ${(err as Error).message}`);
  }
  const from = addresses(mail.from)[0];
  if (!from) throw new MalformedEmailError("The message has no valid From address");
  const headers = headerMap(mail);
  const report = deliveryReportOf(mail, from);
  // A bounce returns our own message: that is no forwarded customer mail.
  const forwarded = report ? null : storableDeep(await forwardingOf(mail, headers, from));
  const messageId = mail.messageId && isUsableId(mail.messageId.trim()) ? mail.messageId.trim() : `<${createHash("sha256").update(raw).digest("hex")}@generated.invalid>`;
  const inReplyTo = ids(mail.inReplyTo)[0] ?? null;
  const references = ids(mail.references).slice(-MAX_REFERENCES);
  const date = mail.date && Number.isFinite(mail.date.getTime()) && Math.abs(mail.date.getFullYear()) < 10_000 ? mail.date : null;
  return {
    messageId,
    from,
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    subject: truncateText(storableText(mail.subject ?? "").trim(), 998) || null,
    text: storableText(mail.text ?? "").trim() || null,
    html: typeof mail.html === "string" && mail.html.trim() ? storableText(mail.html) : null,
    threadIds: [...new Set([...(inReplyTo ? [inReplyTo] : []), ...references.slice().reverse()])],
    inReplyTo,
    references,
    date,
    attachments: mail.attachments.filter((a) => a.content?.length).map(toAttachment),
    forwardedFrom: forwarded && forwarded.via !== "auto" && forwarded.via !== "resent" ? forwarded.original : null,
    forwarded,
    headers,
    report,
  };
}
