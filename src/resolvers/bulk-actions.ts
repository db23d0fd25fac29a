import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { decodeAnyGlobalId, fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import { BulkUpdateConversationsInput, BulkUpdateConversationsResult } from "../schema/bulk-actions.js";
import { bulkUpdateConversations } from "../services/bulk-actions.js";
import { ValidationError } from "../services/errors.js";

/** A conversation id, or null when it does not decode to one (that item is then NOT_FOUND, not the whole request). */
const conversationIdOrNull = (globalId: string) => {
  const decoded = decodeAnyGlobalId(globalId);
  return decoded?.typename === "Conversation" ? decoded.id : null;
};

/** The assignee change asked for: undefined leaves it, null unassigns. */
function assigneeChange(input: { assigneeId?: string | null; unassign?: boolean | null }): string | null | undefined {
  if (input.unassign && input.assigneeId) throw ValidationError.field("input.unassign", "Give assigneeId or unassign, not both");
  if (input.unassign) return null;
  if (!input.assigneeId) return undefined;
  try {
    return fromGlobalId(input.assigneeId, "User");
  } catch {
    throw ValidationError.field("input.assigneeId", "Not a User id");
  }
}

builder.mutationFields((t) => ({
  bulkUpdateConversations: t.withAuth({ agent: true }).field({
    type: BulkUpdateConversationsResult,
    description:
      "Assigns, labels, closes, reopens, snoozes or marks as spam up to 100 conversations at once. Each conversation changes in its own transaction, all requested changes or none, and pushes `conversationUpdated` like the single mutations; `results` says, per id, whether it changed or why not. Errors about the whole request (no or over 100 ids, a repeated id, nothing asked, an unknown label) change nothing.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "BulkUpdateConversationsPayload" } },
    args: { input: t.arg({ type: BulkUpdateConversationsInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const results = await bulkUpdateConversations(ctx, {
        conversationIds: input.conversationIds.map(conversationIdOrNull),
        assigneeId: assigneeChange(input),
        addLabelIds: fromGlobalIds(input.addLabelIds, "Label", ["input", "addLabelIds"]),
        removeLabelIds: fromGlobalIds(input.removeLabelIds, "Label", ["input", "removeLabelIds"]),
        close: input.close,
        snoozeUntil: input.snoozeUntil,
        markSpam: input.markSpam,
      });
      return { results: results.map((r, i) => ({ ...r, globalId: input.conversationIds[i] })) };
    },
  }),
}));
