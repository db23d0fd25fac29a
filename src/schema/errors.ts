import { builder } from "./builder.js";
import { UserType } from "./people.js";
import {
  type AppError,
  ChannelOffError,
  ConditionalStatusError,
  ConflictError,
  ForbiddenError,
  MessagingWindowClosedError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
  type FieldError,
} from "../services/errors.js";

const ErrorInterface = builder.interfaceRef<AppError>("Error").implement({
  description: "An expected failure. Every typed error has a stable `code` and a human-readable message.",
  fields: (t) => ({
    message: t.exposeString("message", { description: "What went wrong, in English, for a developer or a log; may change between versions, so branch on `code` or the type." }),
    code: t.exposeString("code", {
      description:
        "Stable machine-readable code: VALIDATION, NOT_FOUND, FORBIDDEN, UNAUTHENTICATED, CONFLICT, CHANNEL_OFF, MESSAGING_WINDOW_CLOSED, CONDITIONAL_STATUS or RATE_LIMITED (the same value as `extensions.code` on a top-level GraphQL error).",
    }),
  }),
});

const FieldErrorRef = builder.objectRef<FieldError>("FieldError").implement({
  description: "One invalid input field.",
  fields: (t) => ({
    path: t.exposeStringList("path", { description: 'Path of the field in the operation, e.g. ["input", "chat", "color"].' }),
    message: t.exposeString("message", { description: "Why this field's value was refused, e.g. \"Not a hex colour\"." }),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  description: "The input was refused; `fieldErrors` names each offending field.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fieldErrors: t.field({ type: [FieldErrorRef], description: "Every offending input field with its own message (at least one).", resolve: (e) => e.fieldErrors }),
  }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  description: "No such object in the caller's account (another account's ids look exactly the same).",
  interfaces: [ErrorInterface],
  fields: (t) => ({ resource: t.exposeString("resource", { description: "The GraphQL type that was looked for, e.g. \"Conversation\" or \"Channel\"." }) }),
});

builder.objectType(ForbiddenError, {
  name: "ForbiddenError",
  description:
    "The caller is signed in but may not do this: wrong kind of token (agent, partner or visitor), a role too low (e.g. only a SUPER_ADMIN connects a custom channel), an inbox the agent is not a member of, or a reply to a conversation only its assignee may answer (`assignee`).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    assignee: t.field({
      type: UserType,
      nullable: true,
      description: "When the account lets only the assignee reply: the user assigned to the conversation, who may. Null for other refusals.",
      resolve: (err, _args, ctx) => (err.assigneeId && "accountId" in ctx && ctx.kind === "agent" ? ctx.prisma.user.findFirst({ where: { id: err.assigneeId, accountId: ctx.accountId } }) : null),
    }),
  }),
});
builder.objectType(UnauthenticatedError, {
  name: "UnauthenticatedError",
  description: "No valid access token: missing, expired, badly signed or revoked; `message` says which. Sign in again and retry.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});
builder.objectType(ConflictError, {
  name: "ConflictError",
  description:
    "The request clashes with the current state: e.g. the conversation already has a ticket, or an idempotency key was reused for a different request (or its first request is still running).",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(ChannelOffError, {
  name: "ChannelOffError",
  description: "The channel is turned off (or deleted) and takes no messages.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(MessagingWindowClosedError, {
  name: "MessagingWindowClosedError",
  description: "The channel's messaging window has closed (Messenger: 7 days after the customer's last message for human replies).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    windowEndedAt: t.field({ type: "DateTime", description: "When the window closed; a new message from the customer opens it again.", resolve: (e) => e.windowEndedAt }),
  }),
});

builder.objectType(ConditionalStatusError, {
  name: "ConditionalStatusError",
  description: "The ticket status needs properties that were not given.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    missingProperties: t.exposeStringList("missingProperties", { description: "Names of the ticket properties the status requires that are missing or empty; pass them in `ticketProperties`." }),
  }),
});

builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  description: "Too many requests or live subscriptions from this caller; wait and retry.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds", { description: "Seconds to wait before retrying." }) }),
});

/** Error types every mutation can return. */
export const COMMON_ERRORS = [ValidationError, NotFoundError, ForbiddenError];
