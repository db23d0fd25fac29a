import { getNamedType, getOperationAST, isAbstractType, isObjectType, Kind, visit, type DocumentNode, type GraphQLSchema, type SelectionSetNode } from "graphql";
import type { AgentContext, Context } from "../context.js";

/**
 * What a live subscriber's results may depend on, besides the document and variables: its
 * account, role and, below ADMIN, the inboxes it can see. Shared executions (shared-execution.ts)
 * group subscribers by exactly this, and run with a context that holds exactly this.
 */
export interface SubscriberScope {
  role: AgentContext["user"]["role"];
  /** The inboxes the caller can see (for AGENTs; admins see every inbox of the account). */
  inboxIds: ReadonlySet<string>;
}

interface ScopeEntry {
  scope: SubscriberScope;
  /** Bumped at every change, so a subscription rebuilds its group key only then. */
  version: number;
  key: string;
  sharedUser?: AgentContext["user"];
}

const scopes = new WeakMap<object, ScopeEntry>();

/**
 * Records (and, at every `access.changed` event, updates) what an agent's subscription can see.
 * Called by the service that owns access (live-events.ts) in event order, so each event is
 * executed with the access in force at that point of the stream.
 */
export function setSubscriberScope(ctx: AgentContext, scope: SubscriberScope) {
  const previous = scopes.get(ctx);
  const inboxKey = scope.role === "AGENT" ? [...scope.inboxIds].sort().join(",") : "*";
  scopes.set(ctx, { scope, version: (previous?.version ?? 0) + 1, key: `${scope.role}:${inboxKey}` });
}

/** The scope entry of a subscriber's context, if its subscription recorded one. */
export function subscriberScopeOf(ctx: object): ScopeEntry | undefined {
  return scopes.get(ctx);
}

/** Thrown when a resolver reads a part of the caller a shared execution does not carry. */
export class CallerSpecificReadError extends Error {
  constructor(property: string) {
    super(
      `A field read ctx.user.${property} inside a shared subscription execution. Mark the field with extensions: { perCaller: true } ` +
        "(its results are then computed per caller), or read only the caller's account, role and visible inboxes (visibleInboxWhere).",
    );
  }
}

/**
 * The user as a shared execution sees it: its account and role, nothing else. Reading anything
 * more (id, email, preferences, ...) throws instead of silently using the first subscriber's value.
 */
function sharedUser(user: AgentContext["user"], role: SubscriberScope["role"]): AgentContext["user"] {
  return new Proxy(user, {
    get(target, property, receiver) {
      if (property === "role") return role;
      if (property === "accountId" || typeof property === "symbol" || property === "then" || property === "toJSON") return Reflect.get(target, property, receiver);
      throw new CallerSpecificReadError(String(property));
    },
  });
}

/**
 * The context one execution shared by a group runs with: built from the group's scope alone, so a
 * resolver cannot see which subscriber happened to come first. `perCaller` selections are not
 * shared between callers, so they run with the subscriber's own user (with its current role).
 */
export function sharedContextFor(ctx: Context, perCaller: boolean): Context {
  if (ctx.kind !== "agent") return { ...ctx };
  const entry = scopes.get(ctx);
  if (!entry) return { ...ctx };
  const { role, inboxIds } = entry.scope;
  const user = perCaller ? { ...ctx.user, role } : (entry.sharedUser ??= sharedUser(ctx.user, role));
  return { ...ctx, user, visibleInboxIds: role === "AGENT" ? [...inboxIds] : undefined };
}

/**
 * True when the document selects a field marked `extensions: { perCaller: true }` (a field whose
 * value depends on who asks beyond account, role and visible inboxes: read state, "assigned to
 * me", ...). Linear in the document: every selection of every definition is looked at once.
 */
export function selectsPerCallerField(schema: GraphQLSchema, document: DocumentNode): boolean {
  let hit = perCallerDocuments.get(document);
  if (hit !== undefined) return hit;
  const fragments = new Map<string, { type: string; selectionSet: SelectionSetNode }>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, { type: d.typeCondition.name.value, selectionSet: d.selectionSet });
  const seenFragments = new Set<string>();
  const visited = new Map<SelectionSetNode, Set<string>>();
  const visit = (typeName: string | undefined, set: SelectionSetNode): boolean => {
    // Each selection set is looked at once per type it is reached with.
    const at = visited.get(set) ?? visited.set(set, new Set()).get(set)!;
    if (!typeName || at.has(typeName)) return false;
    at.add(typeName);
    const type = schema.getType(typeName);
    // Under an interface or union a field is resolved by each member: check them all.
    const objects = !type ? [] : isObjectType(type) ? [type] : isAbstractType(type) ? schema.getPossibleTypes(type) : [];
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        for (const object of objects) {
          const field = object.getFields()[s.name.value];
          if (!field) continue;
          if (field.extensions?.perCaller === true) return true;
          if (s.selectionSet && visit(getNamedType(field.type).name, s.selectionSet)) return true;
        }
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        if (visit(s.typeCondition?.name.value ?? typeName, s.selectionSet)) return true;
      } else if (!seenFragments.has(s.name.value)) {
        seenFragments.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment && visit(fragment.type, fragment.selectionSet)) return true;
      }
    }
    return false;
  };
  const subscriptionType = schema.getSubscriptionType()?.name;
  hit = false;
  for (const d of document.definitions) if (d.kind === Kind.OPERATION_DEFINITION && visit(subscriptionType, d.selectionSet)) hit = true;
  perCallerDocuments.set(document, hit);
  return hit;
}
const perCallerDocuments = new WeakMap<DocumentNode, boolean>();

/**
 * The variables a subscription's results depend on: all of them but those that only choose where
 * its stream starts, i.e. variables used nowhere but as a root field's argument declared
 * `extensions: { streamOnly: true }` (the `after` cursor of resuming clients). Leaving them out
 * of the group key lets a resumed subscriber share live executions with everyone else.
 */
export function variablesResultsDependOn(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const values = variables ?? {};
  const skip = streamOnlyVariables(schema, document, operationName ?? null);
  if (skip.size === 0) return values;
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) if (!skip.has(name)) kept[name] = value;
  return kept;
}

const streamOnlyByDocument = new WeakMap<DocumentNode, Map<string | null, Set<string>>>();
function streamOnlyVariables(schema: GraphQLSchema, document: DocumentNode, operationName: string | null): Set<string> {
  let byOperation = streamOnlyByDocument.get(document);
  if (!byOperation) streamOnlyByDocument.set(document, (byOperation = new Map()));
  let found = byOperation.get(operationName);
  if (found) return found;
  found = new Set();
  const operation = getOperationAST(document, operationName);
  const root = schema.getSubscriptionType();
  const candidates = new Map<string, number>();
  for (const s of operation?.operation === "subscription" ? operation.selectionSet.selections : []) {
    if (s.kind !== Kind.FIELD) continue;
    const field = root?.getFields()[s.name.value];
    for (const arg of s.arguments ?? []) {
      const def = field?.args.find((a) => a.name === arg.name.value);
      if (def?.extensions?.streamOnly === true && arg.value.kind === Kind.VARIABLE) candidates.set(arg.value.name.value, (candidates.get(arg.value.name.value) ?? 0) + 1);
    }
  }
  if (candidates.size > 0) {
    const uses = new Map<string, number>();
    visit(document, { VariableDefinition: () => false, Variable: (node) => void uses.set(node.name.value, (uses.get(node.name.value) ?? 0) + 1) });
    for (const [name, count] of candidates) if (uses.get(name) === count) found.add(name);
  }
  byOperation.set(operationName, found);
  return found;
}
