/**
 * Expected failures. Services throw these; the schema exposes them as typed results
 * (plugin-errors unions) or, where a field has no union, as GraphQL errors with `extensions.code`.
 * Anything that is not an AppError is unexpected and gets masked.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
}

export interface FieldError {
  /** Path of the offending input field, e.g. ["input", "chat", "color"]. */
  path: string[];
  message: string;
}

export class ValidationError extends AppError {
  readonly code = "VALIDATION";
  constructor(readonly fieldErrors: FieldError[], message = fieldErrors.map((e) => `${e.path.join(".")}: ${e.message}`).join("; ")) {
    super(message || "Invalid input");
  }
  /** One invalid field. */
  static field(path: string | string[], message: string): ValidationError {
    return new ValidationError([{ path: typeof path === "string" ? path.split(".") : path, message }]);
  }
}

/** Also used for rows of another account: a foreign id behaves exactly like a missing one. */
export class NotFoundError extends AppError {
  readonly code = "NOT_FOUND";
  constructor(readonly resource: string, readonly id?: string) {
    super(`${resource} not found`);
  }
}

export class ForbiddenError extends AppError {
  readonly code = "FORBIDDEN";
  constructor(
    message = "You are not allowed to do this",
    /** Set when the refusal is "only the assignee may reply": the user who may. */
    readonly assigneeId?: string,
  ) {
    super(message);
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor(message = "A valid access token is required") {
    super(message);
  }
}

export class ConflictError extends AppError {
  readonly code = "CONFLICT";
  constructor(message: string, readonly field?: string[]) {
    super(message);
  }
}

export class ChannelOffError extends AppError {
  readonly code = "CHANNEL_OFF";
  constructor(readonly channelId: string, message = "This channel is turned off") {
    super(message);
  }
}

export class MessagingWindowClosedError extends AppError {
  readonly code = "MESSAGING_WINDOW_CLOSED";
  constructor(readonly windowEndedAt: Date, message = "The channel's messaging window for this conversation has closed") {
    super(message);
  }
}

export class ConditionalStatusError extends AppError {
  readonly code = "CONDITIONAL_STATUS";
  constructor(readonly statusId: string, readonly missingProperties: string[]) {
    super(`This status requires the properties: ${missingProperties.join(", ")}`);
  }
}

export class RateLimitedError extends AppError {
  readonly code = "RATE_LIMITED";
  constructor(readonly retryAfterSeconds: number, message = "Too many requests") {
    super(message);
  }
}
