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
    return (source, args, context, info) => {
      refuseUnstorable(args);
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

/** Throws a ValidationError at the first unstorable string (or key) in `args`; iterative, so no input nests too deep for it. */
export function refuseUnstorable(args: object) {
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
