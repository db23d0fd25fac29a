import { handleStreamOrSingleExecutionResult, type Plugin } from "@envelop/core";
import { GraphQLError, type ExecutionResult } from "graphql";
import type { Plugin as YogaPlugin } from "graphql-yoga";
import { AppError, RateLimitedError, ValidationError } from "../services/errors.js";
import type { Logger } from "../log.js";

export const MASKED_MESSAGE = "Unexpected error.";

/** Where unexpected errors are reported (the server's logger). */
type Log = Pick<Logger, "error">;

/** Extensions of an expected failure that has no typed union on its field. */
function appErrorExtensions(error: AppError): Record<string, unknown> {
  if (error instanceof RateLimitedError) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterSeconds));
    return { code: error.code, retryAfterSeconds: seconds, http: { status: 429, headers: { "Retry-After": String(seconds) } } };
  }
  // Which input fields were refused, as the payload unions' ValidationError tells them.
  if (error instanceof ValidationError) return { code: error.code, fieldErrors: error.fieldErrors };
  return { code: error.code };
}

/**
 * Keeps GraphQL errors (syntax, validation, limits) and expected failures (AppError, with their
 * code); replaces anything else by a generic message with the request id, after logging it.
 */
export function maskOne(error: GraphQLError, requestId: string | undefined, log: Log): GraphQLError {
  const original = error.originalError;
  if (!original || original instanceof GraphQLError) return error;
  if (original instanceof AppError) {
    return new GraphQLError(original.message, { nodes: error.nodes, path: error.path, extensions: appErrorExtensions(original) });
  }
  log.error({ requestId, path: error.path?.join("."), err: original }, "unexpected error (masked)");
  return new GraphQLError(MASKED_MESSAGE, { nodes: error.nodes, path: error.path, extensions: { code: "INTERNAL_SERVER_ERROR", requestId } });
}

export function maskResult(result: ExecutionResult, requestId: string | undefined, log: Log): ExecutionResult | undefined {
  if (!result.errors?.length) return undefined;
  return { ...result, errors: result.errors.map((e) => maskOne(e, requestId, log)) };
}

/**
 * Masks execution and subscription errors where the context (and so its requestId) is at hand.
 * Runs before Yoga's own masking, which then only sees errors that are safe to show.
 */
export function useRequestIdMasking(log: Log): Plugin {
  const handle = (context: unknown) => (payload: { result: ExecutionResult; setResult: (r: ExecutionResult) => void }) => {
    const masked = maskResult(payload.result, (context as { requestId?: string }).requestId, log);
    if (masked) payload.setResult(masked);
  };
  return {
    onExecute({ args }) {
      return { onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, handle(args.contextValue)) };
    },
    onSubscribe({ args }) {
      const requestId = (args.contextValue as { requestId?: string }).requestId;
      return {
        onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, handle(args.contextValue)),
        onSubscribeError({ error, setError }) {
          if (error instanceof GraphQLError) setError(maskOne(error, requestId, log));
          else if (error instanceof Error && !(error.name === "AbortError")) setError(maskOne(new GraphQLError(error.message, { originalError: error }), requestId, log));
        },
      };
    },
  };
}

/** Yoga's fallback masking, for failures outside execution (e.g. building the context). */
export function createMaskError(log: Log) {
  return (error: unknown, message: string): Error => {
    // Yoga parses GET/form `variables` and `extensions` with JSON.parse: a client error, not ours.
    const cause = error instanceof GraphQLError ? error.originalError : error;
    if (cause instanceof SyntaxError) return new GraphQLError(`Invalid JSON in the request: ${cause.message}`, { extensions: { code: "BAD_REQUEST", http: { status: 400 } } });
    if (error instanceof GraphQLError) return maskOne(error, undefined, log);
    if (error instanceof AppError) return new GraphQLError(error.message, { extensions: appErrorExtensions(error) });
    log.error({ err: error }, "unexpected error (masked)");
    return new GraphQLError(message, { extensions: { code: "INTERNAL_SERVER_ERROR" } });
  };
}

/**
 * Stamps the HTTP request id on masked errors that have none yet (those masked outside execution),
 * so every INTERNAL_SERVER_ERROR a client sees can be found in the logs.
 */
export function useRequestIdOnResponse(): YogaPlugin<{ requestId?: string }> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      const requestId = (serverContext as { requestId?: string }).requestId;
      if (!requestId || Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const single = result as ExecutionResult;
      if (!single.errors?.some((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR" && !e.extensions.requestId)) return;
      setResult({
        ...single,
        errors: single.errors.map((e) =>
          e.extensions?.code === "INTERNAL_SERVER_ERROR" && !e.extensions.requestId
            ? new GraphQLError(e.message, { path: e.path, extensions: { ...e.extensions, requestId } })
            : e,
        ),
      });
    },
  };
}
