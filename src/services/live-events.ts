import type { AgentContext } from "../context.js";
import type { RealtimeEvent } from "../realtime/pubsub.js";
import { accountEventStream } from "../realtime/stream.js";
import { acquireSubscriptionSlot, releasingOnEnd } from "../realtime/limits.js";
import { setSubscriberScope } from "../realtime/subscriber-scope.js";
import { memberInboxIds } from "./access.js";
import { NotFoundError, ValidationError } from "./errors.js";

/** What an agent's subscription asks for. */
export interface LiveEventsInput {
  /** Event types to deliver, e.g. ["message.added"]. */
  types: string[];
  inboxId?: string | null;
  conversationId?: string | null;
  /** Cursor of the last event received before a reconnect. */
  after?: string | null;
  /** Honour the agent's "mute new-message notifications" preference (unless a conversation is named). */
  respectMute?: boolean;
}

function parseCursor(after: string | null | undefined): bigint | undefined {
  if (after === null || after === undefined || after === "") return undefined;
  if (!/^\d{1,19}$/.test(after)) throw ValidationError.field("after", "Not an event cursor");
  return BigInt(after);
}

/**
 * The stream behind agents' subscriptions: the account's events of the inboxes the agent is a
 * member of (directly or through a team), narrowed by inbox or conversation. Membership and the
 * mute preference are checked when subscribing and again whenever the account announces an
 * access change, so an agent removed from an inbox stops receiving its events; the subscriber's
 * scope (role, visible inboxes) is recorded at the same points, so the results of later events
 * are computed with the new access too.
 */
export async function liveEvents(ctx: AgentContext, input: LiveEventsInput): Promise<AsyncIterable<RealtimeEvent>> {
  const after = parseCursor(input.after);
  let inboxes = new Set(await memberInboxIds(ctx));
  let muted = ctx.user.muteNewMessageNotifications;
  // What this subscriber's results may show: shared executions group and run by it.
  setSubscriberScope(ctx, { role: ctx.user.role, inboxIds: inboxes });
  if (input.inboxId && !inboxes.has(input.inboxId)) throw new NotFoundError("Inbox", input.inboxId);
  if (input.conversationId) {
    const conversation = await ctx.prisma.conversation.findFirst({ where: { id: input.conversationId, accountId: ctx.accountId }, select: { inboxId: true } });
    if (!conversation || !inboxes.has(conversation.inboxId)) throw new NotFoundError("Conversation", input.conversationId);
  }
  const release = acquireSubscriptionSlot(`user:${ctx.user.id}`);
  const types = new Set(input.types);
  const stream = accountEventStream({
    prisma: ctx.prisma,
    pubsub: ctx.pubsub,
    accountId: ctx.accountId,
    after,
    onAccessChanged: async () => {
      const [ids, user] = await Promise.all([memberInboxIds(ctx), ctx.prisma.user.findUnique({ where: { id: ctx.user.id } })]);
      inboxes = user && !user.removedAt ? new Set(ids) : new Set();
      muted = user?.muteNewMessageNotifications ?? true;
      setSubscriberScope(ctx, { role: user?.role ?? "AGENT", inboxIds: inboxes });
    },
    accept: (event) => {
      if (!types.has(event.type)) return false;
      if (!event.inboxId || !inboxes.has(event.inboxId)) return false;
      if (input.inboxId && event.inboxId !== input.inboxId) return false;
      if (input.conversationId) return event.payload.conversationId === input.conversationId;
      // A spam sender's message (intake marks it silent) notifies nobody.
      if (input.respectMute && event.payload.silent) return false;
      return !(input.respectMute && muted);
    },
  });
  return releasingOnEnd(stream, release);
}
