import type { Channel } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { requireRole } from "./access.js";
import { MOVABLE_TYPES } from "./channel-settings.js";
import { getChannel } from "./channels.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";

export interface MoveChannelToHelpDeskInput {
  /** Also move the channel's existing conversations to the help desk. Default false. */
  bringHistory?: boolean | null;
  /** With bringHistory: create a ticket for each moved conversation that has none. Default false. */
  createTicketsForHistory?: boolean | null;
}

export interface MoveChannelToHelpDeskResult {
  channel: Channel;
  movedConversations: number;
  createdTickets: number;
}

const TYPE_LABELS: Record<string, string> = { FACEBOOK_MESSENGER: "Facebook Messenger", WHATSAPP: "WhatsApp" };

/**
 * Moves a chat, team email, form, calling or custom channel to the account's help desk (irreversible; ADMIN+).
 * From then on its conversations become tickets (createTickets is turned on). With bringHistory its
 * conversations move too, and with createTicketsForHistory each moved conversation without a ticket
 * gets one in the account's default pipeline, first status, owned by the conversation's assignee.
 * Everything happens in one transaction.
 */
export async function moveChannelToHelpDesk(ctx: AgentContext, channelId: string, input: MoveChannelToHelpDeskInput): Promise<MoveChannelToHelpDeskResult> {
  requireRole(ctx, "ADMIN", "move channels to the help desk");
  const channel = await getChannel(ctx, channelId);
  const bringHistory = input.bringHistory ?? false;
  const createTicketsForHistory = input.createTicketsForHistory ?? false;
  if (!MOVABLE_TYPES.includes(channel.type)) {
    throw ValidationError.field(
      "input.channelId",
      `${TYPE_LABELS[channel.type] ?? channel.type} channels cannot be moved to the help desk: only chat, team email, form, calling and custom channels can`,
    );
  }
  const helpDesk = await ctx.prisma.inbox.findFirst({ where: { accountId: ctx.accountId, kind: "HELP_DESK" } });
  if (!helpDesk) throw new NotFoundError("Help desk");
  if (channel.inboxId === helpDesk.id) throw ValidationError.field("input.channelId", "This channel is already in the help desk");
  if (createTicketsForHistory && !bringHistory) throw ValidationError.field("input.createTicketsForHistory", "Tickets for history need bringHistory");

  const pipeline = await ctx.prisma.pipeline.findFirst({
    where: { accountId: ctx.accountId },
    orderBy: [{ isDefault: "desc" }, { position: "asc" }, { createdAt: "asc" }],
    include: { statuses: { orderBy: { position: "asc" }, take: 1 } },
  });
  if (createTicketsForHistory && !pipeline?.statuses[0]) throw ValidationError.field("input.createTicketsForHistory", "The account has no pipeline to create tickets in");

  return transactionWithEvents(ctx.prisma, async (tx) => {
    const moved = await tx.channel.update({
      where: { id: channel.id },
      data: {
        inboxId: helpDesk.id,
        movedToHelpDeskAt: new Date(),
        createTickets: true,
        ...(channel.ticketPipelineId || !pipeline ? {} : { ticketPipelineId: pipeline.id }),
      },
    });
    if (!bringHistory) return { channel: moved, movedConversations: 0, createdTickets: 0 };
    const conversations = await tx.conversation.findMany({
      where: { accountId: ctx.accountId, channelId: channel.id },
      select: { id: true, subject: true, ticketId: true, assigneeId: true, contactId: true, visitorName: true, visitorEmail: true, contact: { select: { name: true, email: true } } },
    });
    await tx.conversation.updateMany({ where: { accountId: ctx.accountId, channelId: channel.id }, data: { inboxId: helpDesk.id } });
    let createdTickets = 0;
    if (createTicketsForHistory && pipeline) {
      for (const c of conversations.filter((c) => !c.ticketId)) {
        const who = c.contact?.name || c.contact?.email || c.visitorName || c.visitorEmail || "unknown visitor";
        const ticket = await tx.ticket.create({
          data: {
            accountId: ctx.accountId,
            name: c.subject?.trim() || `Conversation with ${who}`,
            pipelineId: pipeline.id,
            statusId: pipeline.statuses[0].id,
            ownerId: c.assigneeId,
            contactId: c.contactId,
          },
        });
        await tx.conversation.update({ where: { id: c.id }, data: { ticketId: ticket.id } });
        await recordEvents(tx, ctx.accountId, [{ type: "ticket.created", inboxId: helpDesk.id, payload: { ticketId: ticket.id, conversationId: c.id } }]);
        createdTickets++;
      }
    }
    // Moved conversations now live in the help desk: its members see them arrive.
    await recordEvents(
      tx,
      ctx.accountId,
      conversations.map((c) => ({ type: "conversation.updated", inboxId: helpDesk.id, payload: { conversationId: c.id, reason: "moved to the help desk" } })),
    );
    return { channel: moved, movedConversations: conversations.length, createdTickets };
  });
}
