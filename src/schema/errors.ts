import { builder } from "./builder.js";
import {
  AppError,
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
    message: t.exposeString("message"),
    code: t.exposeString("code"),
  }),
});

const FieldErrorRef = builder.objectRef<FieldError>("FieldError").implement({
  description: "One invalid input field.",
  fields: (t) => ({
    path: t.exposeStringList("path", { description: 'Path of the field in the operation, e.g. ["input", "chat", "color"].' }),
    message: t.exposeString("message"),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  description: "The input was refused; `fieldErrors` names each offending field.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (e) => e.fieldErrors }) }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  description: "No such object in the caller's account (another account's ids look exactly the same).",
  interfaces: [ErrorInterface],
  fields: (t) => ({ resource: t.exposeString("resource") }),
});

builder.objectType(ForbiddenError, { name: "ForbiddenError", interfaces: [ErrorInterface], fields: () => ({}) });
builder.objectType(UnauthenticatedError, { name: "UnauthenticatedError", interfaces: [ErrorInterface], fields: () => ({}) });
builder.objectType(ConflictError, { name: "ConflictError", interfaces: [ErrorInterface], fields: () => ({}) });

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
  fields: (t) => ({ windowEndedAt: t.field({ type: "DateTime", resolve: (e) => e.windowEndedAt }) }),
});

builder.objectType(ConditionalStatusError, {
  name: "ConditionalStatusError",
  description: "The ticket status needs properties that were not given.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ missingProperties: t.exposeStringList("missingProperties") }),
});

builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds") }),
});

/** Error types every mutation can return. */
export const COMMON_ERRORS = [ValidationError, NotFoundError, ForbiddenError];
