import type { GraphQLFormattedError } from "graphql";

/** One refused field of a ValidationError: its path in the operation (e.g. ["input", "text"]) and why. */
export interface FieldError {
  path: string[];
  message: string;
}

/**
 * An expected failure the server returned as a member of a result union (`... on Error`). Branch
 * on the subclass or on `code` (stable); `message` is English for a developer or a log.
 */
export class InboxError extends Error {
  constructor(
    /** The GraphQL type, e.g. "NotFoundError". */
    readonly typename: string,
    /** The stable code, e.g. "NOT_FOUND" (the same as `extensions.code` on a top-level error). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = typename;
  }
}

export class ValidationError extends InboxError {
  constructor(
    code: string,
    message: string,
    readonly fieldErrors: FieldError[],
  ) {
    super("ValidationError", code, message);
  }
}
export class NotFoundError extends InboxError {
  constructor(
    code: string,
    message: string,
    readonly resource: string | null,
  ) {
    super("NotFoundError", code, message);
  }
}
export class MessagingWindowClosedError extends InboxError {
  constructor(
    code: string,
    message: string,
    readonly windowEndedAt: Date | null,
  ) {
    super("MessagingWindowClosedError", code, message);
  }
}
export class ConditionalStatusError extends InboxError {
  constructor(
    code: string,
    message: string,
    readonly missingProperties: string[],
  ) {
    super("ConditionalStatusError", code, message);
  }
}
export class ForbiddenError extends InboxError {
  constructor(code: string, message: string) {
    super("ForbiddenError", code, message);
  }
}
export class ConflictError extends InboxError {
  constructor(code: string, message: string) {
    super("ConflictError", code, message);
  }
}
export class ChannelOffError extends InboxError {
  constructor(code: string, message: string) {
    super("ChannelOffError", code, message);
  }
}

/** The result-union members this client knows; any other type with `code` and `message` becomes a plain InboxError. */
export type ErrorTypename =
  | "ValidationError"
  | "NotFoundError"
  | "MessagingWindowClosedError"
  | "ConditionalStatusError"
  | "ForbiddenError"
  | "ConflictError"
  | "ChannelOffError"
  | "RateLimitedError"
  | "UnauthenticatedError";

interface ErrorMember {
  __typename: string;
  code: string;
  message: string;
  fieldErrors?: FieldError[] | null;
  resource?: string | null;
  windowEndedAt?: string | null;
  missingProperties?: string[] | null;
}

function isErrorMember(value: unknown): value is ErrorMember {
  const v = value as Partial<ErrorMember> | null;
  return typeof v === "object" && v !== null && typeof v.__typename === "string" && typeof v.code === "string" && typeof v.message === "string";
}

/** The typed exception for one `... on Error` member of a result union. */
export function toInboxError(member: ErrorMember): InboxError {
  const { code, message } = member;
  switch (member.__typename) {
    case "ValidationError":
      return new ValidationError(code, message, member.fieldErrors ?? []);
    case "NotFoundError":
      return new NotFoundError(code, message, member.resource ?? null);
    case "MessagingWindowClosedError":
      return new MessagingWindowClosedError(code, message, member.windowEndedAt ? new Date(member.windowEndedAt) : null);
    case "ConditionalStatusError":
      return new ConditionalStatusError(code, message, member.missingProperties ?? []);
    case "ForbiddenError":
      return new ForbiddenError(code, message);
    case "ConflictError":
      return new ConflictError(code, message);
    case "ChannelOffError":
      return new ChannelOffError(code, message);
    default:
      return new InboxError(member.__typename, code, message);
  }
}

/**
 * The success member of a result union, or throws its error member as an InboxError subclass.
 * Select `__typename` and `...ClientError` (client/operations/fragments.graphql) in the payload.
 *
 *   const { sentMessage } = unwrap((await client.request(ReplyDocument, { input })).reply);
 */
export function unwrap<T extends { __typename?: string }>(payload: T): Exclude<T, { __typename: ErrorTypename }> {
  if (isErrorMember(payload)) throw toInboxError(payload);
  return payload as Exclude<T, { __typename: ErrorTypename }>;
}

/**
 * A request the server refused as a whole: top-level GraphQL errors (`code` from the first
 * error's `extensions.code`, e.g. UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, BAD_USER_INPUT) or,
 * on a subscription, a refusal of the operation.
 */
export class RequestError extends Error {
  constructor(
    readonly code: string | null,
    readonly errors: readonly GraphQLFormattedError[],
    /** The HTTP status, when the request went over HTTP. */
    readonly status: number | null = null,
  ) {
    super(errors.map((e) => e.message).join("; ") || `Request failed${status ? ` (HTTP ${status})` : ""}`);
    this.name = "RequestError";
  }

  static from(errors: readonly GraphQLFormattedError[], status: number | null = null): RequestError {
    const code = errors.find((e) => typeof e.extensions?.code === "string")?.extensions?.code as string | undefined;
    return new RequestError(code ?? null, errors, status);
  }
}
