import { builder } from "./builder.js";
import { fromGlobalId, fromGlobalIds } from "./ids.js";
import { ConversationPriorityEnum, ConversationStatusEnum } from "./conversation-status.js";
import type { ConversationFilter as Filter } from "../services/conversation-filter.js";

/**
 * The GraphQL side of the one conversation filter (src/services/conversation-filter.ts): the
 * input `conversations(filter:)` takes, which saved views store as given, and its decoding.
 */
export const ConversationFilter = builder.inputType("ConversationFilter", {
  description: "Narrows `conversations`; every given field must match (absent fields do not filter).",
  fields: (t) => ({
    inboxId: t.id({ description: "Only this inbox (or the help desk's id); one the caller cannot see gives an empty page." }),
    channelId: t.id({ description: "Only conversations started on this channel." }),
    status: t.field({ type: ConversationStatusEnum, description: "Only conversations in this status. Without it, every status but SPAM and TRASH." }),
    priority: t.field({ type: ConversationPriorityEnum, description: "Only conversations of this priority." }),
    assigneeId: t.id({ description: "Only conversations assigned to this user." }),
    unassigned: t.boolean({ description: "Only conversations without an assignee (ignored with assigneeId)." }),
    from: t.field({ type: "DateTime", description: "Latest activity at or after." }),
    to: t.field({ type: "DateTime", description: "Latest activity before." }),
    mentionsMe: t.boolean({ description: "Only conversations with a comment that mentions the caller (read or not; the MENTIONS view counts the unread ones)." }),
    labelIds: t.idList({ description: "Only conversations carrying every one of these labels (an unknown label matches nothing)." }),
  }),
});

/** The input's global ids decoded (ValidationError on a wrong id); absent fields stay absent. */
export function toConversationFilter(f: typeof ConversationFilter.$inferInput | null | undefined): Filter {
  if (!f) return {};
  return {
    inboxId: f.inboxId ? fromGlobalId(f.inboxId, "Inbox") : null,
    channelId: f.channelId ? fromGlobalId(f.channelId, "Channel") : null,
    status: f.status,
    priority: f.priority,
    assigneeId: f.assigneeId ? fromGlobalId(f.assigneeId, "User") : null,
    unassigned: f.unassigned,
    from: f.from,
    to: f.to,
    mentionsMe: f.mentionsMe,
    labelIds: f.labelIds ? fromGlobalIds(f.labelIds, "Label", ["filter", "labelIds"]) : null,
  };
}
