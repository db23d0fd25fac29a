import type { AgentContext } from "../context.js";
import { transactionWithEvents } from "../realtime/events.js";
import { assignConversationInTx, findVisibleConversation, setConversationStatusInTx } from "./conversations.js";
import { markConversationSpamInTx, snoozeConversationInTx } from "./conversation-states.js";
import { AppError, NotFoundError, ValidationError } from "./errors.js";
import { changeConversationLabelsInTx, checkLabels } from "./labels.js";

/** Most conversations one bulk action may name. */
export const MAX_BULK_CONVERSATIONS = 100;

export interface BulkUpdateInput {
  /** Database ids in the caller's order; null for an id that did not decode (that item is NOT_FOUND). */
  conversationIds: readonly (string | null)[];
  /** A user id assigns, null unassigns, undefined leaves the assignee. */
  assigneeId?: string | null;
  addLabelIds?: readonly string[] | null;
  removeLabelIds?: readonly string[] | null;
  /** true closes, false reopens, absent leaves the status. */
  close?: boolean | null;
  /** Snoozes until then (in the future). */
  snoozeUntil?: Date | null;
  /** true marks as spam (and remembers the sender). */
  markSpam?: boolean | null;
}

/** One conversation's outcome: ok with every requested change applied, or the error that left it untouched. */
export interface BulkItemResult {
  /** The id as given (null when it did not decode). */
  conversationId: string | null;
  ok: boolean;
  error: AppError | null;
}

/**
 * Applies the same changes to up to 100 conversations: assign or unassign, add and remove labels,
 * then one status change (close or reopen, snooze, or mark as spam). Each conversation changes in
 * its own transaction, all of its requested changes or none (each through the service that owns
 * the rule: assignConversationInTx, changeConversationLabelsInTx, setConversationStatusInTx,
 * snoozeConversationInTx, markConversationSpamInTx, recording their events); one that fails
 * (hidden or foreign id: NotFoundError; an assignee who cannot see its inbox: ValidationError)
 * is reported in its result and does not stop the others. What applies to the whole request is
 * refused up front, changing nothing: no or more than 100 ids, a repeated id, no change asked,
 * the same label added and removed, two status changes, a snooze time not in the future, an
 * unknown label (NotFoundError).
 */
export async function bulkUpdateConversations(ctx: AgentContext, input: BulkUpdateInput): Promise<BulkItemResult[]> {
  const ids = input.conversationIds;
  if (ids.length < 1 || ids.length > MAX_BULK_CONVERSATIONS) throw ValidationError.field("input.conversationIds", `Give 1 to ${MAX_BULK_CONVERSATIONS} conversations`);
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (id == null) return;
    if (seen.has(id)) throw ValidationError.field(["input", "conversationIds", String(i)], "This conversation is already in the list");
    seen.add(id);
  });
  const statusChanges = [input.close != null, input.snoozeUntil != null, input.markSpam === true].filter(Boolean).length;
  if (input.assigneeId === undefined && !input.addLabelIds?.length && !input.removeLabelIds?.length && statusChanges === 0) {
    throw ValidationError.field("input", "Ask for at least one change");
  }
  if (statusChanges > 1) throw ValidationError.field("input", "Give at most one of close, snoozeUntil and markSpam");
  if (input.snoozeUntil && !(input.snoozeUntil.getTime() > Date.now())) throw ValidationError.field("input.snoozeUntil", "Must be in the future");
  const add = await checkLabels(ctx.prisma, ctx, input.addLabelIds ?? [], "input.addLabelIds");
  const remove = await checkLabels(ctx.prisma, ctx, input.removeLabelIds ?? [], "input.removeLabelIds");
  if (add.some((id) => remove.includes(id))) throw ValidationError.field("input.removeLabelIds", "A label cannot be added and removed at once");

  const results: BulkItemResult[] = [];
  // One after another: each is a short transaction, and they do not hold each other's locks.
  for (const conversationId of ids) {
    try {
      if (conversationId == null) throw new NotFoundError("Conversation");
      await transactionWithEvents(ctx.prisma, async (tx) => {
        await findVisibleConversation(tx, ctx, conversationId);
        if (input.assigneeId !== undefined) await assignConversationInTx(tx, ctx, { conversationId, assigneeId: input.assigneeId });
        if (add.length || remove.length) await changeConversationLabelsInTx(tx, ctx, { conversationId, add, remove });
        if (input.close != null) await setConversationStatusInTx(tx, ctx, { conversationId, status: input.close ? "CLOSED" : "OPEN" });
        if (input.snoozeUntil) await snoozeConversationInTx(tx, ctx, { conversationId, until: input.snoozeUntil });
        if (input.markSpam) await markConversationSpamInTx(tx, ctx, { conversationId });
      });
      results.push({ conversationId, ok: true, error: null });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      results.push({ conversationId, ok: false, error: err });
    }
  }
  return results;
}
