import { builder } from "./builder.js";

export const ConversationStatusEnum = builder.enumType("ConversationStatus", {
  description: "Whether a conversation still needs the team.",
  values: {
    OPEN: { description: "Waiting on the team or in progress; a new customer message keeps it open." },
    CLOSED: { description: "Done (closedAt is set); reopen it with setConversationStatus." },
  } as const,
});
