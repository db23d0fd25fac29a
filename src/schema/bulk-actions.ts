import { errorTypeMap, wrapErrorIfMatches } from "@pothos/plugin-errors";
import { builder } from "./builder.js";
import { ConversationObject } from "./conversation.js";
import {
  type AppError,
  ChannelOffError,
  ConditionalStatusError,
  ConflictError,
  ForbiddenError,
  MessagingWindowClosedError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from "../services/errors.js";
import { MAX_BULK_CONVERSATIONS, type BulkItemResult } from "../services/bulk-actions.js";

export const BulkUpdateConversationsInput = builder.inputType("BulkUpdateConversationsInput", {
  description: `The same changes for up to ${MAX_BULK_CONVERSATIONS} conversations; each conversation gets all of them or none (see \`bulkUpdateConversations\`). Give at least one change.`,
  fields: (t) => ({
    conversationIds: t.idList({ required: true, description: `1 to ${MAX_BULK_CONVERSATIONS} distinct conversations; one the caller cannot see fails alone with a NotFoundError.` }),
    assigneeId: t.id({ description: "Assign every conversation to this user (who must see each one's inbox, else that item fails with a ValidationError)." }),
    unassign: t.boolean({ description: "true: unassign every conversation (not with assigneeId)." }),
    addLabelIds: t.idList({ description: "Labels to put on every conversation (at most 50)." }),
    removeLabelIds: t.idList({ description: "Labels to take off every conversation (at most 50; none of addLabelIds)." }),
    close: t.boolean({ description: "true closes every conversation, false reopens it (not with snoozeUntil or markSpam)." }),
    snoozeUntil: t.field({ type: "DateTime", description: "Snooze every conversation until then (in the future; not with close or markSpam)." }),
    markSpam: t.boolean({ description: "true marks every conversation as spam, remembering its sender (not with close or snoozeUntil)." }),
  }),
});

/** The typed errors one item can fail with, by GraphQL type name. */
const ITEM_ERROR_NAMES = new Map<unknown, string>([
  [ValidationError, "ValidationError"],
  [NotFoundError, "NotFoundError"],
  [ForbiddenError, "ForbiddenError"],
  [ConflictError, "ConflictError"],
  [ChannelOffError, "ChannelOffError"],
  [MessagingWindowClosedError, "MessagingWindowClosedError"],
  [ConditionalStatusError, "ConditionalStatusError"],
  [RateLimitedError, "RateLimitedError"],
]);
const ITEM_ERRORS = [ValidationError, NotFoundError, ForbiddenError, ConflictError, ChannelOffError, MessagingWindowClosedError, ConditionalStatusError, RateLimitedError];

const BulkItemError = builder.unionType("BulkItemError", {
  description: "Why one conversation of a bulk action was left unchanged (each member implements `Error`).",
  types: [...ITEM_ERRORS],
  resolveType: (err) => ITEM_ERROR_NAMES.get(errorTypeMap.get(err as object)) ?? "ConflictError",
});

/**
 * The error as a member of BulkItemError (a typed error of a kind it does not list becomes a
 * ConflictError with its message), wrapped by plugin-errors so that GraphQL returns it as data.
 */
const asItemError = (err: AppError | null) => (err == null ? null : ITEM_ERRORS.some((E) => err instanceof E) ? (err as InstanceType<(typeof ITEM_ERRORS)[number]>) : new ConflictError(err.message));

/** A service result with the global id the caller gave for it. */
export type BulkItem = BulkItemResult & { globalId: string };

export const BulkConversationResult = builder.objectRef<BulkItem>("BulkConversationResult").implement({
  description: "The outcome for one conversation of a bulk action, in the order the ids were given.",
  fields: (t) => ({
    conversationId: t.id({ description: "The id as given.", resolve: (r) => r.globalId }),
    ok: t.exposeBoolean("ok", { description: "true: every requested change was applied; false: none was (see error)." }),
    error: t.field({ type: BulkItemError, nullable: true, description: "Why this conversation was left unchanged; null when ok.", resolve: (r) => (r.error ? (wrapErrorIfMatches(asItemError(r.error), ITEM_ERRORS) as ReturnType<typeof asItemError>) : null) }),
    conversation: t.prismaField({
      type: ConversationObject,
      nullable: true,
      description: "The conversation as it is now; null when the item failed.",
      resolve: (query, r, _a, ctx) => {
        const args = { ...query, where: { id: r.conversationId ?? "" } };
        return r.ok && r.conversationId ? ctx.prisma.conversation.findUnique(args) : null;
      },
    }),
  }),
});

export const BulkUpdateConversationsResult = builder.objectRef<{ results: BulkItem[] }>("BulkUpdateConversationsResult").implement({
  description: "A bulk action ran: one result per conversation given.",
  fields: (t) => ({
    results: t.field({ type: [BulkConversationResult], description: "One per given id, in order.", resolve: (r) => r.results }),
    okCount: t.int({ description: "How many conversations changed (or already were as asked).", resolve: (r) => r.results.filter((x) => x.ok).length }),
    failedCount: t.int({ description: "How many were left unchanged.", resolve: (r) => r.results.filter((x) => !x.ok).length }),
  }),
});
