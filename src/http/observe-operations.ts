import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import type { Logger } from "../log.js";
import { metrics, operationLabel } from "../metrics.js";

/**
 * What an HTTP request's log line says about its GraphQL operation: filled in by the plugin
 * below, written by the server's request log (src/server.ts) when the response ends.
 */
export interface RequestObservation {
  operationName?: string;
  operationType?: string;
  accountId?: string;
  userId?: string;
  partnerId?: string;
  caller?: string;
  errors?: number;
  errorCodes?: string[];
}

/** Who made the call, as log fields: never the token, only the ids it resolved to. */
export function callerFields(ctx: Partial<Context>): Pick<RequestObservation, "accountId" | "userId" | "partnerId" | "caller"> {
  switch (ctx.kind) {
    case "agent":
      return { caller: "agent", accountId: ctx.accountId, userId: ctx.user?.id };
    case "visitor":
      return { caller: "visitor", accountId: ctx.accountId };
    case "partner":
      return { caller: "partner", partnerId: ctx.partnerId };
    default:
      return { caller: "anonymous" };
  }
}

type ObservedContext = Partial<Context> & { observation?: RequestObservation };

function errorCodes(errors: readonly GraphQLError[] | undefined): string[] {
  return errors?.map((e) => (typeof e.extensions?.code === "string" ? e.extensions.code : "GRAPHQL_ERROR")) ?? [];
}

function operationOf(document: DocumentNode, operationName: string | null | undefined) {
  const op = getOperationAST(document, operationName);
  return { name: operationName ?? op?.name?.value, type: op?.operation ?? "unknown" };
}

/** Ends once: the first of done, return, throw or failure of the source calls `onEnd`. */
function withEnd<T>(source: AsyncIterableIterator<T>, onEnd: () => void): AsyncIterableIterator<T> {
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  return {
    next: (...args) =>
      source.next(...args).then(
        (r) => {
          if (r.done) end();
          return r;
        },
        (err) => {
          end();
          throw err;
        },
      ),
    return: (value) => {
      end();
      return source.return ? source.return(value) : Promise.resolve({ value: undefined, done: true });
    },
    throw: (err) => {
      end();
      return source.throw ? source.throw(err) : Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Per operation: Prometheus counters and latency (src/metrics.ts) and the log fields. An HTTP
 * operation's fields go into the request's observation, logged once with the request line; a
 * WebSocket operation (no HTTP request of its own) gets its own log line when it ends.
 */
export function useOperationObservability(logger: Logger): Plugin {
  const logOperation = (ctx: ObservedContext, fields: RequestObservation & { durationMs: number }) => {
    if (ctx.observation) Object.assign(ctx.observation, fields, callerFields(ctx));
    else logger.info({ requestId: ctx.requestId, transport: "websocket", ...callerFields(ctx), ...fields }, "graphql operation");
  };
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) metrics.invalidOperations.inc({ stage: "parse" });
      };
    },
    onValidate() {
      return ({ valid }) => {
        if (!valid) metrics.invalidOperations.inc({ stage: "validate" });
      };
    },
    onExecute({ args }) {
      const started = performance.now();
      const { name, type } = operationOf(args.document, args.operationName);
      const operation = operationLabel(name);
      metrics.operations.inc({ operation, type });
      return {
        onExecuteDone({ result }) {
          const seconds = (performance.now() - started) / 1000;
          metrics.operationDuration.observe({ operation, type }, seconds);
          const codes = Symbol.asyncIterator in (result as object) ? [] : errorCodes((result as ExecutionResult).errors);
          for (const code of codes) metrics.operationErrors.inc({ operation, type, code });
          logOperation(args.contextValue as ObservedContext, { operationName: name, operationType: type, durationMs: Math.round(seconds * 1000), errors: codes.length, errorCodes: codes.length ? codes : undefined });
        },
      };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      const { name } = operationOf(args.document, args.operationName);
      const operation = operationLabel(name);
      const ctx = args.contextValue as ObservedContext;
      const transport = ctx.observation ? "sse" : "websocket";
      metrics.operations.inc({ operation, type: "subscription" });
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in (result as object))) {
            const codes = errorCodes((result as ExecutionResult).errors);
            for (const code of codes) metrics.operationErrors.inc({ operation, type: "subscription", code });
            logOperation(ctx, { operationName: name, operationType: "subscription", durationMs: Math.round(performance.now() - started), errors: codes.length, errorCodes: codes });
            return;
          }
          metrics.subscriptionsStarted.inc({ operation });
          metrics.subscriptionsActive.inc({ transport });
          setResult(
            withEnd(result as AsyncIterableIterator<ExecutionResult>, () => {
              metrics.subscriptionsActive.dec({ transport });
              logOperation(ctx, { operationName: name, operationType: "subscription", durationMs: Math.round(performance.now() - started) });
            }),
          );
        },
        onSubscribeError({ error }) {
          metrics.operationErrors.inc({ operation, type: "subscription", code: (error as GraphQLError)?.extensions?.code === undefined ? "SUBSCRIPTION_FAILED" : String((error as GraphQLError).extensions.code) });
        },
      };
    },
  };
}
