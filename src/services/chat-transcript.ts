import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Prisma } from "../generated/prisma/client.js";
import type { VisitorContext } from "../context.js";
import type { EmailPayload } from "../transports/email/send.js";
import type { ChatSettings } from "./channel-settings.js";
import { NotFoundError } from "./errors.js";
import { email, parseInput } from "./validation.js";

/**
 * The end of a chat, from the visitor's side: the widget forgets the chat, and when the visitor
 * gave an address (now, when starting, or as a known contact) a transcript is emailed through the
 * outbound queue, from the channel's transcript address.
 */

/** Messages a transcript holds at most (the latest). */
export const TRANSCRIPT_MESSAGES = 500;

const endSchema = z.object({ transcriptEmail: email().optional() });

const clock = (d: Date) => d.toISOString().slice(0, 16).replace("T", " ");

/**
 * Ends the visitor's chat. Returns the address the transcript was queued to, or null when no
 * address is known. The conversation itself stays as it is for the agents (open or closed);
 * a visitor who writes again with the same token reopens it as intake does.
 */
export async function endVisitorChat(ctx: VisitorContext, input: { transcriptEmail?: string | null }): Promise<{ transcriptSentTo: string | null }> {
  const data = parseInput(endSchema, { transcriptEmail: input.transcriptEmail || undefined }, ["input"]);
  const conversation = await ctx.prisma.conversation.findFirst({
    where: { accountId: ctx.accountId, id: ctx.conversationId, channelId: ctx.channelId },
    include: { channel: true, contact: true, account: { select: { name: true } } },
  });
  if (!conversation) throw new NotFoundError("Conversation", ctx.conversationId);
  const to = data.transcriptEmail ?? conversation.contact?.email ?? conversation.visitorEmail;
  if (!to) return { transcriptSentTo: null };

  const messages = await ctx.prisma.message.findMany({
    where: { accountId: ctx.accountId, conversationId: conversation.id, kind: "MESSAGE" },
    include: { author: { select: { firstName: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: TRANSCRIPT_MESSAGES,
  });
  const company = conversation.account.name;
  const visitor = conversation.contact?.name ?? conversation.visitorName ?? "You";
  const lines = messages.reverse().map((m) => {
    const who = m.direction === "INBOUND" ? visitor : (m.author?.firstName ?? company);
    return `[${clock(m.createdAt)} UTC] ${who}: ${m.text ?? ""}`;
  });
  const settings = conversation.channel.settings as Partial<ChatSettings> | null;
  const domain = ctx.config.transports.smtpFromDomain;
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
  await ctx.prisma.outboundDelivery.create({
    data: { accountId: ctx.accountId, kind: "EMAIL", channelId: conversation.channelId, payload: payload as unknown as Prisma.InputJsonValue },
  });
  return { transcriptSentTo: to };
}
