import { builder } from "./builder.js";

export const ConversationStatusEnum = builder.enumType("ConversationStatus", {
  description:
    "Where a conversation stands. OPEN and CLOSED are the working states (setConversationStatus); SNOOZED, SPAM and TRASH have their own mutations. The default conversation list leaves SPAM and TRASH out.",
  values: {
    OPEN: { description: "Waiting on the team or in progress; a new customer message keeps it open." },
    SNOOZED: { description: "Put aside until snoozedUntil (snoozeConversation): it reopens by itself then, or as soon as the customer writes." },
    CLOSED: { description: "Done (closedAt is set); reopen it with setConversationStatus." },
    SPAM: { description: "Marked as spam (markConversationSpam): its sender's future messages land here too, without notifying anyone." },
    TRASH: { description: "In the trash (trashConversation) since trashedAt: restorable with restoreConversation until it is purged 30 days later." },
  } as const,
});

export const ConversationPriorityEnum = builder.enumType("ConversationPriority", {
  description: "How urgent a conversation is (setConversationPriority); NORMAL unless set.",
  values: {
    LOW: { description: "Can wait." },
    NORMAL: { description: "The default." },
    HIGH: { description: "Before the normal ones." },
    URGENT: { description: "Now." },
  } as const,
});
