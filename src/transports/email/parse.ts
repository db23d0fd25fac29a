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
    forwardedFrom: storableDeep(await forwardedSender(mail)),
  };
}
