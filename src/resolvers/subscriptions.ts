import { builder } from "../schema/builder.js";
import { fromGlobalId } from "../schema/ids.js";
import { ConversationObject } from "../schema/conversation.js";
import { MessageObject } from "../schema/message.js";
import { TicketObject } from "../schema/ticket.js";
import { withEventCursor } from "../schema/event-cursor.js";
import type { RealtimeEvent } from "../realtime/pubsub.js";
import { liveEvents } from "../services/live-events.js";
import { sharedLoad } from "../realtime/shared-load.js";
import { findScalarRow } from "../db/scalar-rows.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { Context } from "../context.js";

/**
 * Loads the event's row with the subscriber's selection, once per server for identical
 * selections. A selection of scalar fields only (no relation to include) reads the row through
 * `pg` (findScalarRow); others go through Prisma with the selection.
 */
function loadFor<T extends object>(event: unknown, query: object, ctx: Context, model: Prisma.ModelName, load: (id: string) => Promise<T>, idKey: string): Promise<T> {
  const e = event as RealtimeEvent;
  const id = String(e.payload[idKey]);
  const row = () => (Object.keys(query).length === 0 ? findScalarRow(ctx.prisma, model, e.accountId, id, () => load(id)) : load(id));
  return sharedLoad(`${e.accountId}:${e.seq}:${JSON.stringify(query)}`, async () => withEventCursor(await row(), e));
}

// streamOnly: the cursor only chooses where the stream starts, so results are shared across it (subscriber-scope.ts).
const afterArg = (t: { arg: { string: (o: { description: string; extensions: Record<string, unknown> }) => unknown } }) =>
  t.arg.string({ description: "Resume: the `eventCursor` of the last event received. Missed events are replayed first, in order.", extensions: { streamOnly: true } });

type SubscriptionFields = Parameters<Parameters<typeof builder.subscriptionFields>[0]>[0];

/** A Message subscription over some event types, narrowed by inbox or conversation. */
function messageSubscription(t: SubscriptionFields, opts: { description: string; types: string[]; respectMute?: boolean }) {
  return t.withAuth({ agent: true }).prismaField({
    type: MessageObject,
    description: opts.description,
    args: {
      inboxId: t.arg.id({ description: "Only this inbox (one the caller is a member of; otherwise NOT_FOUND)." }),
      conversationId: t.arg.id({ description: "Only this conversation (in an inbox the caller is a member of)." }),
      after: afterArg(t) as never,
    },
    subscribe: (_root, args, ctx) =>
      liveEvents(ctx, {
        types: opts.types,
        inboxId: args.inboxId ? fromGlobalId(String(args.inboxId), "Inbox") : null,
        conversationId: args.conversationId ? fromGlobalId(String(args.conversationId), "Conversation") : null,
        after: args.after as string | null | undefined,
        respectMute: opts.respectMute,
      }),
    resolve: (query, event, _args, ctx) => loadFor(event, query, ctx, "Message", (id) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id } }), "messageId"),
  });
}

builder.subscriptionFields((t) => ({
  messageAdded: messageSubscription(t, {
    description:
      "Every new message and comment in the inboxes the caller is a member of; narrowed by inbox or conversation. Muted agents get none unless they name a conversation.",
    types: ["message.added"],
    respectMute: true,
  }),
  messageUpdated: messageSubscription(t, {
    description:
      "Changes to messages in the inboxes the caller is a member of: an agent's reply being SENT, DELIVERED, READ or FAILED (with `deliveryError`). Narrowed by inbox or conversation.",
    types: ["message.updated"],
  }),
  conversationUpdated: t.withAuth({ agent: true }).prismaField({
    type: ConversationObject,
    description: "New conversations and changes (assignment, status, ticket link, contact) in the inboxes the caller is a member of.",
    args: { inboxId: t.arg.id({ description: "Only this inbox (one the caller is a member of; otherwise NOT_FOUND)." }), after: afterArg(t) as never },
    subscribe: (_root, args, ctx) =>
      liveEvents(ctx, {
        types: ["conversation.created", "conversation.updated"],
        inboxId: args.inboxId ? fromGlobalId(String(args.inboxId), "Inbox") : null,
        after: args.after as string | null | undefined,
      }),
    resolve: (query, event, _args, ctx) => loadFor(event, query, ctx, "Conversation", (id) => ctx.prisma.conversation.findUniqueOrThrow({ ...query, where: { id } }), "conversationId"),
  }),
  ticketUpdated: t.withAuth({ agent: true }).prismaField({
    type: TicketObject,
    description: "Tickets created or changed whose conversation is in (or, without one, the help desk is) an inbox the caller is a member of.",
    args: { after: afterArg(t) as never },
    subscribe: (_root, args, ctx) => liveEvents(ctx, { types: ["ticket.created", "ticket.updated"], after: args.after as string | null | undefined }),
    resolve: (query, event, _args, ctx) => loadFor(event, query, ctx, "Ticket", (id) => ctx.prisma.ticket.findUniqueOrThrow({ ...query, where: { id } }), "ticketId"),
  }),
}));
