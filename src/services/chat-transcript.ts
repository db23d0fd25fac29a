import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Prisma } from "../generated/prisma/client.js";
import type { Config } from "../config.js";
import type { VisitorContext } from "../context.js";
import type { EmailPayload } from "../transports/email/send.js";
import type { ChatSettings } from "./channel-settings.js";
import { NotFoundError } from "./errors.js";
import { email, parseInput } from "./validation.js";

/**
 * Chat transcripts: when a chat ends, by the visitor (endChat) or by an agent closing it, and the
 * visitor gave an address (when ending, when starting, or as a known contact), the conversation is
 * emailed to them through the outbound queue, from the channel's transcript address.
 */

/** Messages a transcript holds at most (the latest). */
export const TRANSCRIPT_MESSAGES = 500;

const endSchema = z.object({ transcriptEmail: email().optional() });

const clock = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ");

type Db = Prisma.TransactionClient;

interface TranscriptOptions {
  accountId: string;
  conversationId: string;
  /** The address to send to; default the visitor's (contact's email, or the one given at start). */
  to?: string;
  /**
   * Send nothing when a transcript was already queued after the conversation's latest message:
   * an agent closing a chat the visitor just ended sends no second copy.
   */
  unlessCurrent?: boolean;
}

/**
 * Queues a CHAT conversation's transcript (one outbound EMAIL delivery row, in the caller's
 * transaction) and records when. Returns the address, or null when none is known, the
 * conversation is not a chat, or (`unlessCurrent`) the last transcript is still current.
 */
export async function queueChatTranscript(tx: Db, config: Pick<Config, "transports">, opts: TranscriptOptions): Promise<string | null> {
  const conversation = await tx.conversation.findFirst({
    where: { accountId: opts.accountId, id: opts.conversationId },
    include: { channel: true, contact: true, account: { select: { name: true } } },
  });
  if (!conversation || conversation.channel.type !== "CHAT") return null;
  const to = opts.to ?? conversation.contact?.email ?? conversation.visitorEmail;
  if (!to) return null;

  const messages = await tx.message.findMany({
    where: { accountId: opts.accountId, conversationId: conversation.id, kind: "MESSAGE" },
    include: { author: { select: { firstName: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: TRANSCRIPT_MESSAGES,
  });
  const latest = messages[0]?.createdAt;
  if (opts.unlessCurrent && conversation.transcriptSentAt && (!latest || conversation.transcriptSentAt >= latest)) return null;

  const company = conversation.account.name;
  const visitor = conversation.contact?.name ?? conversation.visitorName ?? "You";
  const lines = messages.reverse().map((m) => {
    const who = m.direction === "INBOUND" ? visitor : (m.author?.firstName ?? company);
    return `[${clock(m.createdAt)} UTC] ${who}: ${m.text ?? ""}`;
  });
  const settings = conversation.channel.settings as Partial<ChatSettings> | null;
  const domain = config.transports.smtpFromDomain;
  const payload: EmailPayload = {
    from: { name: company, address: settings?.transcriptSender ?? `chat@${domain}` },
    to: { name: conversation.contact?.name ?? conversation.visitorName ?? null, address: to },
    subject: `Your chat with ${company}`,
    text: `Here is the transcript of your chat with ${company}.\n\n${lines.join("\n")}\n`,
    html: null,
    messageId: `<transcript-${randomUUID()}@${domain}>`,
    inReplyTo: null,
    references: [],
  };
  await tx.outboundDelivery.create({
    data: { accountId: opts.accountId, kind: "EMAIL", channelId: conversation.channelId, payload: payload as unknown as Prisma.InputJsonValue },
  });
  await tx.conversation.update({ where: { id: conversation.id }, data: { transcriptSentAt: new Date() } });
  return to;
}

/**
 * Ends the visitor's chat. Returns the address the transcript was queued to, or null when no
 * address is known. The conversation itself stays as it is for the agents (open or closed);
 * a visitor who writes again with the same token reopens it as intake does.
 */
export async function endVisitorChat(ctx: VisitorContext, input: { transcriptEmail?: string | null }): Promise<{ transcriptSentTo: string | null }> {
  const data = parseInput(endSchema, { transcriptEmail: input.transcriptEmail || undefined }, ["input"]);
  const exists = await ctx.prisma.conversation.findFirst({ where: { accountId: ctx.accountId, id: ctx.conversationId, channelId: ctx.channelId }, select: { id: true } });
  if (!exists) throw new NotFoundError("Conversation", ctx.conversationId);
  const to = await ctx.prisma.$transaction((tx) =>
    queueChatTranscript(tx, ctx.config, { accountId: ctx.accountId, conversationId: ctx.conversationId, to: data.transcriptEmail }),
  );
  return { transcriptSentTo: to };
}
