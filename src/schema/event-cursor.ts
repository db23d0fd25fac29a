import type { RealtimeEvent } from "../realtime/pubsub.js";
import { builder } from "./builder.js";
import { ConversationObject } from "./conversation.js";
import { MessageObject } from "./message.js";
import { TicketObject } from "./ticket.js";

const CURSOR = Symbol("eventCursor");
type WithCursor = { [CURSOR]?: string };

/** Marks a row loaded for a subscription event with that event's cursor. */
export function withEventCursor<T extends object>(row: T, event: RealtimeEvent): T {
  (row as T & WithCursor)[CURSOR] = event.seq;
  return row;
}

const description =
  "Set on subscription payloads: the cursor of the event that delivered this object. Pass it as `after` when resubscribing to receive everything missed.";
const field = { nullable: true, description, resolve: (row: object) => (row as WithCursor)[CURSOR] ?? null } as const;
builder.prismaObjectField(MessageObject, "eventCursor", (t) => t.string(field));
builder.prismaObjectField(ConversationObject, "eventCursor", (t) => t.string(field));
builder.prismaObjectField(TicketObject, "eventCursor", (t) => t.string(field));
