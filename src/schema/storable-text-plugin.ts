import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import { ValidationError } from "../services/errors.js";
import { isStorableText } from "../services/storable.js";

const MESSAGE = "Contains characters that cannot be stored (NUL or an unpaired surrogate)";

/**
 * The one rule that keeps text PostgreSQL cannot store (NUL, unpaired UTF-16 surrogates) out of
 * every field: before a field resolves (or a subscription starts), its arguments, as coerced from
 * literals and variables, are searched for such a string or object key. The first one found is
 * refused with a ValidationError naming its path (`input.name`, `ids.3`); plugin-errors turns it
 * into the payload union's `ValidationError` where the field has one, and it is a GraphQL error
 * with `extensions.code: "VALIDATION"` (and `fieldErrors`) elsewhere. Listed after ErrorsPlugin
 * in the builder so that its wrapper runs inside the union's.
 */
export class StorableTextPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types["Context"], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types["Context"], object> {
    // A subscription's arguments are checked once, when it starts (wrapSubscribe), not per event.
    if (fieldConfig.kind === "Subscription" || Object.keys(fieldConfig.args).length === 0) return resolver;
    // Relay connections (first/after/last/before) take our cursors; subscriptions' `after` is an event sequence number.
    const connection = "first" in fieldConfig.args && "after" in fieldConfig.args;
    return (source, args, context, info) => {
      refuseUnstorable(args, connection);
      return resolver(source, args, context, info);
    };
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types["Context"], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types["Context"], object> | undefined {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0) return subscribe;
    return (source, args, context, info) => {
      refuseUnstorable(args);
      return subscribe(source, args, context, info);
    };
  }
}

// JSON escapes of NUL and of UTF-16 surrogates: JSON.stringify writes the latter only when unpaired.
const ESCAPED_UNSTORABLE = /\\u(0000|d[89a-f][0-9a-f]{2})/i;

/**
 * Connection cursors (`after`, `before`) are base64 text the client got from us: one that decodes
 * to unstorable text (raw or JSON-escaped) was never ours. Plugin-prisma's cursors here are all
 * keyed by a String id (`GPC:S:`); another kind (`GPC:J:{…}`) reached Prisma as a wrong-typed id.
 */
function refuseForgedCursor(name: string, cursor: string) {
  const decoded = Buffer.from(cursor, "base64").toString("utf8");
  if (!isStorableText(decoded) || ESCAPED_UNSTORABLE.test(decoded) || (decoded.startsWith("GPC:") && !decoded.startsWith("GPC:S:"))) {
    throw ValidationError.field(name, "Not a cursor of this connection");
  }
}

/**
 * Throws a ValidationError at the first unstorable string (or key) in `args` (and, on a
 * connection, at a forged cursor); iterative, so no input nests too deep for it.
 */
export function refuseUnstorable(args: object, connection = false) {
  if (connection) for (const name of ["after", "before"]) {
    const cursor = (args as Record<string, unknown>)[name];
    if (typeof cursor === "string" && isStorableText(cursor)) refuseForgedCursor(name, cursor);
  }
  const stack: Array<[value: unknown, path: string[]]> = [[args, []]];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === "string") {
      if (!isStorableText(value)) throw ValidationError.field(path, MESSAGE);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, String(i)]]);
    } else if (value && typeof value === "object" && !(value instanceof Date)) {
      const entries = Object.entries(value);
      for (const [key] of entries) if (!isStorableText(key)) throw ValidationError.field(path, MESSAGE);
      for (let i = entries.length - 1; i >= 0; i--) stack.push([entries[i][1], [...path, entries[i][0]]]);
    }
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      storableText: StorableTextPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin("storableText", StorableTextPlugin);

export default "storableText" as const;
