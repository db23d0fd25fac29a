import { builder } from "./builder.js";
import { ConversationObject } from "./conversation.js";
import { MessageObject } from "./message.js";
import { ConversationPriorityEnum } from "./conversation-status.js";
import { DOWNLOAD_URL_TTL_SECONDS, signedDownloadUrl } from "../services/attachments-store.js";

/** Snooze, priority, spam and trash (src/services/conversation-states.ts): fields, inputs, results. */

builder.prismaObjectFields(ConversationObject, (t) => ({
  priority: t.expose("priority", { type: ConversationPriorityEnum, description: "How urgent it is (setConversationPriority); NORMAL unless set." }),
  snoozedUntil: t.expose("snoozedUntil", { type: "DateTime", nullable: true, description: "While SNOOZED: when it reopens by itself (earlier if the customer writes); null otherwise." }),
  trashedAt: t.expose("trashedAt", { type: "DateTime", nullable: true, description: "While in TRASH: when it was trashed; it is purged 30 days later. Null otherwise." }),
}));

builder.prismaObjectField(MessageObject, "originalEmail", (t) =>
  t.string({
    nullable: true,
    select: { emailOriginal: { select: { id: true } } },
    description: `For an inbound email whose HTML was too large to keep (see metadata.email.htmlDropped): a short-lived signed URL (valid ${DOWNLOAD_URL_TTL_SECONDS / 60} minutes) that downloads the original message as received (message/rfc822), like Attachment.downloadUrl. Null for every other message.`,
    resolve: (message, _args, ctx) => (message.emailOriginal ? signedDownloadUrl(ctx.config, message.emailOriginal.id) : null),
  }),
);

const conversationId = (t: { id: (o: { required: true; description: string }) => unknown }) =>
  t.id({ required: true, description: "A conversation the caller can see." }) as never;

export const SnoozeConversationInput = builder.inputType("SnoozeConversationInput", {
  description: "Puts a conversation aside until a time: it reopens by itself then, or as soon as the customer writes.",
  fields: (t) => ({
    conversationId: conversationId(t),
    until: t.field({ type: "DateTime", required: true, description: "When it reopens: in the future, at most five years ahead." }),
  }),
});

export const ConversationIdInput = builder.inputType("ConversationStateInput", {
  description: "Names the conversation to unsnooze, mark, unmark, trash, restore or purge.",
  fields: (t) => ({ conversationId: conversationId(t) }),
});

export const SetConversationPriorityInput = builder.inputType("SetConversationPriorityInput", {
  description: "Sets a conversation's priority; setting the current one changes nothing.",
  fields: (t) => ({
    conversationId: conversationId(t),
    priority: t.field({ type: ConversationPriorityEnum, required: true, description: "LOW, NORMAL, HIGH or URGENT." }),
  }),
});

export const PurgeConversationResult = builder.objectRef<{ conversationId: string }>("PurgeConversationResult").implement({
  description: "The conversation was deleted for good, with its messages and files.",
  fields: (t) => ({ purgedConversationId: t.id({ description: "The global id it had.", resolve: (r) => r.conversationId }) }),
});
