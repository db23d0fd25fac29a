import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from "graphql";

/** Text PostgreSQL cannot store, and a global id ("Conversation:\0") that decodes to it. */
export const UNSTORABLE_STRINGS = ["a\u0000b", "\ud800", "x\udfffy"];
export const NUL_GLOBAL_ID = "Q29udmVyc2F0aW9uOgA=";

export interface OperationCase {
  label: string;
  query: string;
  variables: Record<string, unknown>;
}

type Slot = { path: Array<string | number>; type: GraphQLInputType };

/** A plausible value of `type` (required parts only below the top), recording every String/ID slot. */
function plausible(type: GraphQLInputType, id: string, path: Array<string | number>, slots: Slot[], depth: number): unknown {
  if (isNonNullType(type)) return plausible(type.ofType, id, path, slots, depth);
  if (isListType(type)) return [plausible(type.ofType, id, [...path, 0], slots, depth + 1)];
  if (isInputObjectType(type)) {
    if (depth > 3) return {};
    const fields = Object.values(type.getFields());
    const chosen = (type as { isOneOf?: boolean }).isOneOf ? fields.slice(0, 1) : fields;
    return Object.fromEntries(chosen.map((f) => [f.name, plausible(f.type, id, [...path, f.name], slots, depth + 1)]));
  }
  if (isEnumType(type)) return type.getValues()[0].name;
  switch (type.name) {
    case "Int":
      return 1;
    case "Float":
      return 1.5;
    case "Boolean":
      return true;
    case "DateTime":
      return new Date().toISOString();
    case "JSONObject":
      slots.push({ path, type });
      return { key: "value" };
    case "ID":
      slots.push({ path, type });
      return id;
    default:
      slots.push({ path, type });
      return "text";
  }
}

function setAt(root: Record<string, unknown>, path: Array<string | number>, value: unknown) {
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
}

/**
 * For every field of `root` with arguments, one operation per String/ID/JSON slot of its
 * arguments and per unstorable value (a NUL global id for ID slots, a NUL key for JSON ones).
 */
export function unstorableCases(root: GraphQLObjectType, kind: "query" | "mutation" | "subscription", id: string): OperationCase[] {
  const cases: OperationCase[] = [];
  for (const field of Object.values(root.getFields()) as Array<GraphQLField<unknown, unknown>>) {
    if (!field.args.length) continue;
    const selection = isLeafType(getNamedType(field.type)) ? "" : "{ __typename }";
    const query = `${kind} (${field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(", ")}) { ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(", ")}) ${selection} }`;
    const slots: Slot[] = [];
    const base = Object.fromEntries(field.args.map((a) => [a.name, plausible(a.type, id, [a.name], slots, 0)]));
    for (const slot of slots) {
      const named = getNamedType(slot.type).name;
      const values = named === "ID" ? [NUL_GLOBAL_ID, ...UNSTORABLE_STRINGS.slice(0, 1)] : named === "JSONObject" ? [{ "k\u0000": 1 }, { k: "\ud800" }] : UNSTORABLE_STRINGS;
      for (const value of values) {
        const variables = structuredClone(base);
        setAt(variables, slot.path, value);
        cases.push({ label: `${field.name} ${slot.path.join(".")}=${JSON.stringify(value)}`, query, variables });
      }
    }
  }
  return cases;
}
