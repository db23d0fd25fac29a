import type { Plugin } from "@envelop/core";
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  visit,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
import type { Limits } from "../config.js";

/**
 * Query limits in the spirit of GraphQL Armor, as one envelop plugin. Because it hooks parse,
 * validate, execute and subscribe, it applies wherever `yoga.getEnveloped` is used: HTTP, SSE and
 * the WebSocket server alike.
 */

function limitError(message: string, code: string, nodes?: readonly import("graphql").ASTNode[]): GraphQLError {
  // http.status 400: the request itself is refused (Yoga strips `http` from the response body).
  return new GraphQLError(message, { nodes, extensions: { code, http: { status: 400 } } });
}

function isIntrospection(field: FieldNode): boolean {
  return field.name.value.startsWith("__");
}

/**
 * Deepest field nesting of each operation, following fragments. Each fragment's depth is computed
 * once per document (a spread inside a cycle counts 0: NoFragmentCyclesRule reports the cycle), so
 * the check is linear in the document's size however often fragments spread each other: a
 * 646-character document of fragments spreading the next one ten times took 5-10 s when every
 * path was walked.
 */
function depthRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentDepths = new Map<string, number>(); // -1 while being computed
    const fragmentDepth = (name: string): number => {
      const known = fragmentDepths.get(name);
      if (known !== undefined) return Math.max(known, 0);
      const fragment = context.getFragment(name);
      if (!fragment) return 0; // unknown: KnownFragmentNamesRule reports it
      fragmentDepths.set(name, -1);
      const depth = depthOf(fragment.selectionSet);
      fragmentDepths.set(name, depth);
      return depth;
    };
    const depthOf = (set: SelectionSetNode): number => {
      let deepest = 0;
      for (const sel of set.selections) {
        let depth: number;
        if (sel.kind === Kind.FIELD) {
          if (isIntrospection(sel)) continue;
          depth = 1 + (sel.selectionSet ? depthOf(sel.selectionSet) : 0);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) depth = depthOf(sel.selectionSet);
        else depth = fragmentDepth(sel.name.value);
        // Past the limit the exact depth no longer matters (a fragment may remember a partial,
        // still too deep, value).
        if (depth > deepest && (deepest = depth) > max) return deepest;
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet);
        if (depth > max) context.reportError(limitError(`The query is nested deeper than the limit of ${max}`, "QUERY_TOO_DEEP", [node]));
      },
    };
  };
}

/** Counts a node kind across the whole document (aliases, directives). */
function countRule(max: number, what: string, code: string, count: (doc: DocumentNode) => number) {
  return (context: ValidationContext): ASTVisitor => ({
    Document(node) {
      const n = count(node);
      if (n > max) context.reportError(limitError(`The document has ${n} ${what}; the limit is ${max}`, code));
      return false;
    },
  });
}

function countAliases(doc: DocumentNode): number {
  let n = 0;
  visit(doc, { Field: (node) => void (node.alias && n++) });
  return n;
}

function countDirectives(doc: DocumentNode): number {
  let n = 0;
  visit(doc, { Directive: () => void n++ });
  return n;
}

/**
 * Cost of an operation with its variables: every field counts 1, and everything selected under a
 * field with `first`/`last` is multiplied by that page size. Also refuses page sizes above the cap.
 */
export function operationCost(
  doc: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  maxPageSize: number,
): { cost: number; error?: GraphQLError } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of doc.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.find((o) => (operationName ? o.name?.value === operationName : true));
  if (!operation) return { cost: 0 };
  let error: GraphQLError | undefined;

  const pageSize = (field: FieldNode): number | undefined => {
    for (const arg of field.arguments ?? []) {
      if (arg.name.value !== "first" && arg.name.value !== "last") continue;
      const raw = arg.value.kind === Kind.INT ? Number(arg.value.value) : arg.value.kind === Kind.VARIABLE ? variables?.[arg.value.name.value] : undefined;
      if (typeof raw !== "number" || !Number.isFinite(raw)) continue;
      if (raw > maxPageSize || raw < 0) {
        error ??= limitError(
          `Argument "${arg.name.value}" of field "${field.name.value}" must be between 0 and ${maxPageSize}, got ${raw}`,
          "PAGE_SIZE_TOO_LARGE",
          [arg],
        );
      }
      return Math.max(0, Math.min(raw, maxPageSize));
    }
    return undefined;
  };

  // Each fragment's cost is computed once (linear in the document, like the depth rule); a spread
  // inside a cycle costs 0 (validation refuses cycles). Costs may grow past 2^53 or to Infinity:
  // they are only compared with the limit.
  const fragmentCosts = new Map<string, number>(); // -1 while being computed
  const fragmentCost = (name: string): number => {
    const known = fragmentCosts.get(name);
    if (known !== undefined) return Math.max(known, 0);
    const fragment = fragments.get(name);
    if (!fragment) return 0;
    fragmentCosts.set(name, -1);
    const cost = costOf(fragment.selectionSet);
    fragmentCosts.set(name, cost);
    return cost;
  };
  const costOf = (set: SelectionSetNode): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (isIntrospection(sel)) continue;
        const size = pageSize(sel);
        total += 1 + (sel.selectionSet ? (size ?? 1) * costOf(sel.selectionSet) : 0);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        total += costOf(sel.selectionSet);
      } else {
        total += fragmentCost(sel.name.value);
      }
    }
    return total;
  };
  return { cost: costOf(operation.selectionSet), error };
}

const SUGGESTION = /\s*Did you mean .*\?$/;

/** The limits plugin: parse (characters, tokens), validate (depth, aliases, directives, introspection), execute/subscribe (cost, page size, timeout). Every check is linear in the document's size. */
export function useQueryLimits(limits: Limits): Plugin {
  const rules = [
    depthRule(limits.maxDepth),
    countRule(limits.maxAliases, "aliases", "TOO_MANY_ALIASES", countAliases),
    countRule(limits.maxDirectives, "directives", "TOO_MANY_DIRECTIVES", countDirectives),
    ...(limits.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];

  const checkCost = (args: { document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null }): ExecutionResult | undefined => {
    // NUL and unpaired surrogates in arguments are refused per field, with the field's name, by
    // src/schema/storable-text-plugin.ts (as the payload union's ValidationError where there is one).
    const { cost, error } = operationCost(args.document, args.operationName, args.variableValues, limits.maxPageSize);
    if (error) return { errors: [error] };
    if (cost > limits.maxCost) return { errors: [limitError(`Query cost ${cost} exceeds the limit of ${limits.maxCost}`, "QUERY_TOO_COMPLEX")] };
    return undefined;
  };

  return {
    onParse({ params, setParseFn }) {
      const source = typeof params.source === "string" ? params.source : String(params.source?.body ?? "");
      if (source.length > limits.maxCharacters) {
        throw limitError(`The document has ${source.length} characters; the limit is ${limits.maxCharacters}`, "QUERY_TOO_LARGE");
      }
      setParseFn((src, options) => {
        try {
          return parse(src, { ...options, maxTokens: limits.maxTokens });
        } catch (err) {
          // Syntax errors (token limit included) are the client's fault: 400, never masked.
          if (err instanceof GraphQLError) throw limitError(err.message, "GRAPHQL_PARSE_FAILED", err.nodes ?? undefined);
          throw err;
        }
      });
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
      if (limits.introspection) return;
      // Field suggestions would let a client map a schema whose introspection is off.
      return ({ result, setResult }) => {
        if (!result.some((e) => SUGGESTION.test(e.message))) return;
        setResult(result.map((e) => (SUGGESTION.test(e.message) ? new GraphQLError(e.message.replace(SUGGESTION, ""), { nodes: e.nodes, extensions: e.extensions }) : e)));
      };
    },
    onExecute({ args, setResultAndStopExecution, executeFn, setExecuteFn }) {
      const refused = checkCost(args);
      if (refused) return setResultAndStopExecution(refused);
      setExecuteFn((execArgs) => withTimeout(Promise.resolve(executeFn(execArgs)), limits.requestTimeoutMs));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = checkCost(args);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}

/** Answers REQUEST_TIMEOUT when execution outlasts the limit (the work itself cannot be aborted mid-statement). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | ExecutionResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ExecutionResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ errors: [new GraphQLError(`The operation took longer than ${ms} ms`, { extensions: { code: "REQUEST_TIMEOUT", http: { status: 503 } } })] }),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
