import { stat } from "node:fs/promises";
import nodemailer, { type Transporter } from "nodemailer";
import type { Channel, Contact, Conversation, Message, Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { Config, TransportConfig } from "../../config.js";
import { attachmentPath } from "../../services/attachments-store.js";
import { renderSignature, type TeamEmailSettings } from "../../services/channel-settings.js";
import { PermanentSendError } from "../meta/graph-api.js";
import { isMessageId, newMessageId } from "./threading.js";

type Tx = Prisma.TransactionClient;

/** The snapshot of one outgoing email, written with the reply (OutboundDelivery.payload, kind EMAIL). */
export interface EmailPayload {
  from: { name: string; address: string };
  to: { name: string | null; address: string } | null;
  subject: string;
  text: string;
  html: string | null;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  /** Files kept by this server, sent as MIME attachments (links stay in the text). */
  attachments?: EmailFile[];
  /** Where the customer's answer goes: the address that reaches this server (the channel's), so the thread continues. */
  replyTo?: string | null;
  /** Extra header fields (an auto-reply's Auto-Submitted). */
  headers?: Record<string, string>;
}

/** A stored file attached to an email, read from the attachments store when the email is sent. */
export interface EmailFile {
  storageKey: string;
  filename: string;
  contentType: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const htmlToText = (s: string) => s.replace(/<br\s*\/?>/gi, "\n").replace(/<\/(p|div)>/gi, "\n").replace(/<[^>]*>/g, "").replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&").trim();

/** "Re: <subject>" (not doubled when the subject already is a reply). */
export function replySubject(subject: string | null, company: string): string {
  const base = subject?.trim() || `Your conversation with ${company}`;
  return /^re:/i.test(base) ? base : `Re: ${base}`;
}

/**
 * Builds the email for an agent's reply through a team email channel, inside the reply
 * transaction: From per the channel's fromName rule ("Agent Name (Company)" or the company only,
 * Company being the channel's companyName or the account's name; no name for Office 365) at the
 * team address; To the contact's (or visitor's) email; Subject "Re: <conversation
 * subject>"; the team signature rendered for the sending agent appended to the text and HTML; a
 * new Message-ID; In-Reply-To / References from the message answered so mail clients thread it.
 * Attachments that are files kept by this server go as MIME attachments; link attachments are
 * listed in the text as links (the server never fetches a URL it was given).
 */
export async function buildEmailPayload(
  tx: Tx,
  config: TransportConfig,
  args: {
    message: Message;
    conversation: Conversation & { contact: Contact | null };
    channel: Channel;
    inReplyTo: Message | null;
    attachments?: { url?: string | null; storageKey?: string | null; name?: string | null; mimeType?: string | null }[];
  },
): Promise<EmailPayload> {
  const { message, conversation, channel, inReplyTo } = args;
  const [account, author, inbox] = await Promise.all([
    tx.account.findUniqueOrThrow({ where: { id: message.accountId }, select: { name: true } }),
    message.authorId ? tx.user.findFirst({ where: { accountId: message.accountId, id: message.authorId }, select: { firstName: true, lastName: true } }) : null,
    tx.inbox.findFirst({ where: { accountId: message.accountId, id: channel.inboxId }, select: { fallbackEmail: true } }),
  ]);
  const settings = (channel.settings ?? {}) as Partial<TeamEmailSettings>;
  const agentName = author ? `${author.firstName} ${author.lastName}`.trim() : "";
  // The company name is what the admin typed (default: the account's name); Office 365 has no
  // From-name feature: the bare address goes out.
  const company = settings.companyName || account.name;
  const fromName = settings.provider === "OFFICE365" ? "" : settings.fromName === "COMPANY_ONLY" || !agentName ? company : `${agentName} (${company})`;
  const address = channel.emailAddress ?? settings.address ?? inbox?.fallbackEmail ?? `no-reply@${config.smtpFromDomain}`;
  const toAddress = conversation.contact?.email ?? conversation.visitorEmail;

  const signature = author ? renderSignature(channel, author) : { text: "", format: "PLAIN" as const };
  const links = (args.attachments ?? []).filter((a) => a.url && !a.storageKey).map((a) => `${a.name ?? "Attachment"}: ${a.url}`);
  const files = (args.attachments ?? []).flatMap((a) => (a.storageKey ? [{ storageKey: a.storageKey, filename: a.name ?? "attachment", contentType: a.mimeType ?? "application/octet-stream" }] : []));
  const body = message.text ?? (message.richText ? htmlToText(message.richText) : "");
  const textParts = [body, links.length ? `Attachments:\n${links.join("\n")}` : ""];
  if (signature.text) textParts.push(`-- \n${signature.format === "HTML" ? htmlToText(signature.text) : signature.text}`);
  let html: string | null = null;
  if (message.richText || signature.format === "HTML") {
    const main = message.richText ?? escapeHtml(body).replace(/\n/g, "<br>");
    const sig = signature.text ? (signature.format === "HTML" ? signature.text : escapeHtml(signature.text).replace(/\n/g, "<br>")) : "";
    html = `<div>${main}</div>${links.length ? `<p>${links.map(escapeHtml).join("<br>")}</p>` : ""}${sig ? `<div class="signature">-- <br>${sig}</div>` : ""}`;
  }

  // References: the thread's ids (root first), ending with the message answered.
  const parentRefs = ((inReplyTo?.metadata as { email?: { references?: string[] } } | null)?.email?.references ?? []).filter(isMessageId);
  const parentId = isMessageId(inReplyTo?.externalId) ? inReplyTo!.externalId : null;
  const root = isMessageId(conversation.threadKey) ? conversation.threadKey : null;
  const references = [...new Set([...(root ? [root] : []), ...parentRefs, ...(parentId ? [parentId] : [])])].slice(-20);

  return {
    from: { name: fromName, address },
    to: toAddress ? { name: conversation.contact?.name || conversation.visitorName || null, address: toAddress } : null,
    subject: replySubject(conversation.subject, account.name),
    text: textParts.filter(Boolean).join("\n\n"),
    html,
    messageId: newMessageId(message.id, config.smtpFromDomain),
    inReplyTo: parentId ?? references.at(-1) ?? null,
    references,
    replyTo: address,
    ...(files.length ? { attachments: files } : {}),
  };
}

/**
 * The email telling a contact owner who is away that their contact wrote (NOTIFICATION_EMAIL rows
 * recorded by routing), built when it is sent. Null when the recipient user is gone.
 */
export async function buildNotificationEmail(prisma: PrismaClient, config: TransportConfig, row: { accountId: string; userId: string | null; messageId: string | null }) {
  if (!row.userId) return null;
  const [user, message] = await Promise.all([
    prisma.user.findFirst({ where: { accountId: row.accountId, id: row.userId, removedAt: null } }),
    row.messageId ? prisma.message.findFirst({ where: { accountId: row.accountId, id: row.messageId }, include: { conversation: { include: { contact: true } } } }) : null,
  ]);
  if (!user) return null;
  const who = message?.conversation.contact?.name || message?.conversation.contact?.email || message?.conversation.visitorName || "A contact";
  return {
    from: { name: "Inbox notifications", address: `notifications@${config.smtpFromDomain}` },
    to: { name: `${user.firstName} ${user.lastName}`.trim(), address: user.email },
    subject: `New message from ${who}`,
    text: `${who} wrote${message?.conversation.subject ? ` about "${message.conversation.subject}"` : ""} while you were away:\n\n${message?.text ?? "(no text)"}\n`,
  };
}

const transporters = new Map<string, Transporter>();

function transporter(smtpUrl: string): Transporter {
  let t = transporters.get(smtpUrl);
  if (!t) {
    t = nodemailer.createTransport(smtpUrl);
    transporters.set(smtpUrl, t);
  }
  return t;
}

/** Where each attached file is, checked to exist: a file that is gone will not come back (PermanentSendError). */
async function attachedFiles(store: Pick<Config, "dataDir"> | undefined, files: EmailFile[]) {
  if (files.length && !store) throw new Error("This worker has no attachments store");
  return Promise.all(
    files.map(async (f) => {
      const file = attachmentPath(store!, f.storageKey);
      if (!(await stat(file).catch(() => null))?.isFile()) throw new PermanentSendError(`The attached file "${f.filename}" is no longer stored`);
      return { filename: f.filename, contentType: f.contentType, path: file };
    }),
  );
}

/**
 * Hands one email to the SMTP server of SMTP_URL, its `attachments` read from the attachments
 * store of `store` (DATA_DIR). Resolves when the server accepted it; throws with the server's
 * answer otherwise (the worker retries).
 */
export async function sendEmail(
  config: TransportConfig,
  mail: {
    from: { name: string; address: string };
    to: { name: string | null; address: string } | null;
    subject: string;
    text: string;
    html?: string | null;
    messageId?: string;
    inReplyTo?: string | null;
    references?: string[];
    attachments?: EmailFile[];
    replyTo?: string | null;
    headers?: Record<string, string>;
  },
  timeoutMs: number,
  store?: Pick<Config, "dataDir">,
): Promise<void> {
  if (!config.smtpUrl) throw new Error("SMTP_URL is not configured");
  if (!mail.to) throw new Error("The contact has no email address");
  const attachments = await attachedFiles(store, mail.attachments ?? []);
  const send = transporter(config.smtpUrl).sendMail({
    from: mail.from.name ? mail.from : mail.from.address,
    to: mail.to.name ? { name: mail.to.name, address: mail.to.address } : mail.to.address,
    subject: mail.subject,
    text: mail.text,
    html: mail.html ?? undefined,
    messageId: mail.messageId,
    inReplyTo: mail.inReplyTo ?? undefined,
    references: mail.references?.length ? mail.references : undefined,
    attachments: attachments.length ? attachments : undefined,
    replyTo: mail.replyTo ?? undefined,
    headers: mail.headers,
    // Signed with the configured key (DKIM_*): receivers' DMARC checks pass when DKIM_DOMAIN is the From domain (or its parent).
    dkim: config.email.dkim,
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`SMTP send timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([send, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
