import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { AttachmentObject, MessageDirectionEnum, MessageKindEnum, SenderTypeEnum } from "./message.js";
import { ConversationStatusEnum } from "./conversation.js";
import type { ConversationStatus } from "../generated/prisma/client.js";
import { visitorStatus } from "../services/conversation-states.js";
import { TypicalReplyTimeEnum } from "./channel-settings.js";
import type { ChatWidgetStatus } from "../services/chat-availability.js";
import type { VisitorMessage } from "../services/chat-widget.js";
import type { ChatHeadingPerson, ChatWidgetConfig } from "../services/chat-widget-config.js";

/** The public side of built-in channels: the chat widget (visitors) and form submissions. */

export const ChatWidgetStateEnum = builder.enumType("ChatWidgetState", {
  description: "The chat's availability as the widget shows it.",
  values: {
    AVAILABLE: { description: "Someone will answer; show the typical reply time." },
    AWAY: { description: "Nobody is available (availability by users)." },
    OFFLINE: { description: "Outside chat hours, or the chat is off, unpublished or unknown." },
    AT_CAPACITY: { description: "Every available agent is at their chat capacity." },
  } as const,
});

export const ChatWidgetStatusType = builder.objectRef<ChatWidgetStatus>("ChatWidgetStatus").implement({
  description: "What the chat widget shows now.",
  fields: (t) => ({
    showLauncher: t.exposeBoolean("showLauncher", { description: "False: show no launcher at all." }),
    state: t.expose("state", { type: ChatWidgetStateEnum, description: "AVAILABLE, AWAY, OFFLINE or AT_CAPACITY." }),
    message: t.exposeString("message", { nullable: true, description: "The away or waiting message to show, if any." }),
    typicalReplyTime: t.expose("typicalReplyTime", { type: TypicalReplyTimeEnum, nullable: true, description: "AVAILABLE: the reply time to show; null otherwise." }),
    returnsAt: t.expose("returnsAt", { type: "DateTime", nullable: true, description: "OFFLINE under chat hours with SHOW_RETURN_TIME: when the chat opens next." }),
    consentRequired: t.exposeBoolean("consentRequired", { description: "startChat needs consent: true (the visitor clicked “I agree”)." }),
    consentText: t.exposeString("consentText", { nullable: true, description: "The consent text to show when consent is asked; null when not." }),
  }),
});

const VisitorMessageRef = builder.objectRef<VisitorMessage & { eventCursor?: string }>("VisitorMessage");
export const VisitorMessageType = VisitorMessageRef.implement({
  description: "A message of the visitor's own chat as the widget shows it (internal comments are never visible).",
  fields: (t) => ({
    id: t.id({ description: "The message's global id (keep messages by it: a resubscription may repeat one).", resolve: (m) => toGlobalId("Message", m.id) }),
    direction: t.expose("direction", { type: MessageDirectionEnum, description: "INBOUND: the visitor's; OUTBOUND: an agent's or the bot's." }),
    kind: t.expose("kind", { type: MessageKindEnum, description: "MESSAGE (or CALL); never COMMENT." }),
    senderType: t.expose("senderType", { type: SenderTypeEnum, description: "CONTACT (the visitor), AGENT or BOT." }),
    authorName: t.string({ nullable: true, description: "First name of the agent who wrote it.", resolve: (m) => m.author?.firstName ?? null }),
    text: t.exposeString("text", { nullable: true, description: "Plain text; null when none." }),
    richText: t.exposeString("richText", { nullable: true, description: "HTML." }),
    attachments: t.field({ type: [AttachmentObject], description: "Its files (empty when none).", resolve: (m) => m.attachments }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was sent." }),
    eventCursor: t.string({
      nullable: true,
      description: "On subscription payloads: pass it as `after` when resubscribing to receive everything missed.",
      resolve: (m) => m.eventCursor ?? null,
    }),
  }),
});

export const VisitorConversationType = builder
  .objectRef<{ id: string; status: ConversationStatus; eventCursor: string; messages: VisitorMessage[] }>("VisitorConversation")
  .implement({
    description: "The visitor's chat: at most its last 200 messages, oldest first.",
    fields: (t) => ({
      id: t.id({ description: "The conversation's global id.", resolve: (c) => toGlobalId("Conversation", c.id) }),
      status: t.field({
        type: ConversationStatusEnum,
        description: "OPEN, or CLOSED when an agent closed it (a new visitor message reopens it). Never the team's internal states: a snoozed or spam-marked chat shows OPEN, a trashed one CLOSED.",
        resolve: (c) => visitorStatus(c.status),
      }),
      messages: t.field({ type: [VisitorMessageType], description: "The last 200 messages at most, oldest first.", resolve: (c) => c.messages }),
      eventCursor: t.exposeString("eventCursor", {
        description: "Subscribe to visitorMessageAdded with `after` set to this to receive every reply from this snapshot on (one already listed may come again: keep messages by id).",
      }),
    }),
  });

const ChatHeadingPersonType = builder.objectRef<ChatHeadingPerson>("ChatHeadingPerson").implement({
  description: "A user or team shown at the top of the chat widget.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "A user's first name, or a team's name." }),
    initials: t.exposeString("initials", { description: "What the avatar circle shows." }),
  }),
});

export const ChatWidgetType = builder.objectRef<ChatWidgetConfig>("ChatWidget").implement({
  description: "What a chat channel's website widget renders: its look, its heading and its availability now.",
  fields: (t) => ({
    color: t.exposeString("color", { description: "Accent colour (hex)." }),
    font: t.exposeString("font", { description: "CSS font family." }),
    welcomeMessage: t.exposeString("welcomeMessage", { description: "The first message a visitor sees." }),
    welcomeAsPrompt: t.exposeBoolean("welcomeAsPrompt", { description: "Show the welcome message as a prompt beside the launcher on page load." }),
    heading: t.field({
      type: [ChatHeadingPersonType],
      description: "At most three people (picked at random past three): the channel's users and teams, or the contact owner (the new-visitor fallback for a visitor without one).",
      resolve: (w) => w.heading,
    }),
    status: t.field({ type: ChatWidgetStatusType, description: "Availability now (the same as chatAvailability).", resolve: (w) => w.status }),
  }),
});

export const StartChatInput = builder.inputType("StartChatInput", {
  description: "A visitor starts a chat from the widget (no token needed).",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The CHAT channel (its embed snippet's data-channel-id)." }),
    name: t.string({ description: "What the visitor calls themselves (shown to agents as visitorName)." }),
    email: t.string({ description: "With an email the visitor becomes (or is matched to) a contact." }),
    consent: t.boolean({ description: "Required true when chatAvailability says consentRequired." }),
    chatflowId: t.id({ description: "The chatflow the page shows (chatWidget.chatflow): a bot greets and runs; without it, plain live chat." }),
  }),
});

export const StartChatResult = builder
  .objectRef<{ visitorToken: string; conversationId: string; welcomeMessage: VisitorMessage | null }>("StartChatResult")
  .implement({
    description: "The chat started.",
    fields: (t) => ({
      visitorToken: t.exposeString("visitorToken", { description: "Bearer token for this one chat (valid 7 days): sendVisitorMessage, visitorConversation, visitorMessageAdded." }),
      conversationId: t.id({ description: "The new conversation's global id.", resolve: (r) => toGlobalId("Conversation", r.conversationId) }),
      welcomeMessage: t.field({ type: VisitorMessageType, nullable: true, description: "The welcome message the bot posted; null when the channel has none.", resolve: (r) => r.welcomeMessage }),
    }),
  });

export const SendVisitorMessageInput = builder.inputType("SendVisitorMessageInput", {
  description: "A visitor's message in their own chat (visitor token).",
  fields: (t) => ({
    text: t.string({ description: "May be empty when attachments are given." }),
    clientMessageId: t.string({ required: true, description: "The widget's id for this message: a retry with the same id is not stored twice." }),
    attachments: t.stringList({ description: "Files uploaded through POST /widget/uploads: their `upload` tokens (at most 10)." }),
  }),
});

export const SendVisitorMessageResult = builder.objectRef<{ message: VisitorMessage; duplicate: boolean }>("SendVisitorMessageResult").implement({
  description: "The visitor's message was stored (or had been, for a repeated clientMessageId).",
  fields: (t) => ({
    sentMessage: t.field({ type: VisitorMessageType, description: "The visitor's message as stored.", resolve: (r) => r.message }),
    message: t.field({ type: VisitorMessageType, description: "Deprecated alias of `sentMessage` (the same message).", deprecationReason: "Use `sentMessage`: it can be selected beside `... on Error { message }` without an alias.", resolve: (r) => r.message }),
    duplicate: t.exposeBoolean("duplicate", { description: "True when this clientMessageId had been sent before: nothing was written." }),
  }),
});

export const EndChatInput = builder.inputType("EndChatInput", {
  description: "The visitor ends their chat (visitor token): a transcript is emailed. The conversation stays as it is for the agents; writing again with the same token continues it.",
  fields: (t) => ({
    transcriptEmail: t.string({ description: "Where to email the transcript; default the address the visitor started with (or their contact's). None known: no transcript." }),
  }),
});

export const EndChatResult = builder.objectRef<{ transcriptSentTo: string | null }>("EndChatResult").implement({
  description: "The chat ended.",
  fields: (t) => ({
    transcriptSentTo: t.exposeString("transcriptSentTo", { nullable: true, description: "The address the transcript was queued to; null: none known, none sent." }),
  }),
});

export const FormValueInput = builder.inputType("FormValueInput", {
  description: "The value of one form field.",
  fields: (t) => ({
    name: t.string({ required: true, description: "The field's name." }),
    value: t.string({ required: true, description: "As typed; CHECKBOX: true or false." }),
  }),
});

export const SubmitFormInput = builder.inputType("SubmitFormInput", {
  description: "A public form submission (no token needed): it becomes a conversation, and a ticket when the channel creates them.",
  fields: (t) => ({
    formId: t.id({ required: true, description: "The form of a live FORM channel." }),
    values: t.field({ type: [FormValueInput], required: true, description: "One value per filled field; required fields must be present." }),
    pageUrl: t.string({ description: "The page the form was submitted from." }),
  }),
});

export const SubmitFormResult = builder.objectRef<{ messageId: string }>("SubmitFormResult").implement({
  description: "The submission was received.",
  fields: (t) => ({ submissionId: t.id({ description: "Id of the submission (the inbox message).", resolve: (r) => toGlobalId("Message", r.messageId) }) }),
});
