import { z } from "zod";
import { ValidationError, type FieldError } from "./errors.js";

/**
 * A chatflow as data: the targeting rules, the trigger and the bot's graph of actions, validated
 * before anything is stored. A graph is refused (ValidationError with the path of each problem)
 * when an action names a target that does not exist, when an action cannot be reached from the
 * start (or the hand-off or away entry), and when actions form a cycle that no question breaks
 * (the bot would loop without waiting for the visitor).
 */

export const ACTION_TYPES = ["MESSAGE", "QUESTION", "SET_PROPERTY", "CREATE_TICKET", "SEND_TO_TEAM", "WEBHOOK", "BRANCH", "END"] as const;
export const ANSWER_KINDS = ["TEXT", "OPTIONS", "EMAIL", "PHONE", "NUMBER", "DATE"] as const;
/** Contact fields a bot may write (the contact model has no free-form properties). */
export const CONTACT_PROPERTIES = ["name", "email", "phone"] as const;

const id = z.string().trim().min(1, "Must not be empty").max(64, "At most 64 characters");
const target = id.nullish();
const text = (max = 2000) => z.string().trim().min(1, "Must not be empty").max(max, `At most ${max} characters`);
const propertyName = z.string().trim().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "Letters, digits and _ (at most 64)");

const saveTo = z.object({ target: z.enum(["CONTACT", "CONVERSATION"]), property: propertyName });

const condition = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ANSWER"), key: propertyName, op: z.enum(["EQUALS", "CONTAINS", "EXISTS"]), value: z.string().max(500).optional() }),
  z.object({ kind: z.literal("CONTACT"), property: z.enum(CONTACT_PROPERTIES), op: z.enum(["EQUALS", "CONTAINS", "EXISTS"]), value: z.string().max(500).optional() }),
  z.object({ kind: z.literal("TEAM_AVAILABLE"), teamId: id }),
  z.object({ kind: z.literal("BUSINESS_HOURS") }),
]);

const base = { id, next: target };
const actionSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("MESSAGE"), text: text() }),
  z.object({
    ...base,
    type: z.literal("QUESTION"),
    text: text(),
    /** Where the answer is kept in the session's answers (default: the action id). */
    key: propertyName.optional(),
    answer: z.enum(ANSWER_KINDS).default("TEXT"),
    options: z.array(z.object({ label: text(80), value: z.string().trim().max(200).optional(), next: target })).max(13, "At most 13 quick replies").optional(),
    saveTo: saveTo.optional(),
    invalidText: text(500).optional(),
    maxRetries: z.number().int().min(0).max(10).default(2),
  }),
  z.object({ ...base, type: z.literal("SET_PROPERTY"), target: z.enum(["CONTACT", "CONVERSATION"]), property: propertyName, value: z.string().max(2000) }),
  z.object({
    ...base,
    type: z.literal("CREATE_TICKET"),
    pipelineId: id.optional(),
    statusId: id.optional(),
    name: z.string().trim().max(200).optional(),
    /** Ticket property -> template ("{{answers.email}}"). */
    properties: z.record(propertyName, z.string().max(2000)).optional(),
  }),
  z.object({ ...base, type: z.literal("SEND_TO_TEAM"), teamId: id.optional(), userIds: z.array(id).max(50).optional(), text: z.string().trim().max(2000).optional(), fallback: target }),
  z.object({
    ...base,
    type: z.literal("WEBHOOK"),
    url: z.string().trim().url("Must be a URL").max(2048),
    timeoutMs: z.number().int().min(100).max(10_000).default(3000),
    /** Branch names the webhook's JSON answer may choose ({ "branch": "vip" }). */
    branches: z.record(z.string().min(1).max(64), id).optional(),
    onError: target,
  }),
  z.object({ ...base, type: z.literal("BRANCH"), rules: z.array(z.object({ when: z.array(condition).min(1).max(10), next: target })).min(1).max(20), else: target }),
  z.object({ id, type: z.literal("END"), text: z.string().trim().max(2000).optional() }),
]);

export type ChatflowAction = z.output<typeof actionSchema>;
export type Condition = z.output<typeof condition>;

const urlRule = z.object({ match: z.enum(["EQUALS", "CONTAINS", "STARTS_WITH", "MATCHES"]), value: z.string().trim().min(1, "Must not be empty").max(1000) });
export const targetingSchema = z.object({
  include: z.array(urlRule).max(50).default([]),
  exclude: z.array(urlRule).max(50).default([]),
  query: z.array(z.object({ name: z.string().trim().min(1).max(100), value: z.string().max(500).optional() })).max(20).default([]),
});
export type Targeting = z.output<typeof targetingSchema>;

/** The graph's edges from one action: [path under the action, target id]. */
export function edgesOf(a: ChatflowAction): [string[], string][] {
  const e: [string[], string | null | undefined][] = [];
  if ("next" in a) e.push([["next"], a.next]);
  switch (a.type) {
    case "QUESTION":
      a.options?.forEach((o, i) => e.push([["options", String(i), "next"], o.next]));
      break;
    case "SEND_TO_TEAM":
      e.push([["fallback"], a.fallback]);
      break;
    case "WEBHOOK":
      e.push([["onError"], a.onError]);
      for (const [name, to] of Object.entries(a.branches ?? {})) e.push([["branches", name], to]);
      break;
    case "BRANCH":
      a.rules.forEach((r, i) => e.push([["rules", String(i), "next"], r.next]));
      e.push([["else"], a.else]);
      break;
  }
  return e.filter((x): x is [string[], string] => typeof x[1] === "string");
}

export interface BotGraph {
  actions: ChatflowAction[];
  startActionId: string | null;
  handoffActionId: string | null;
  awayActionId: string | null;
}

/**
 * Parses and checks a bot's graph. `root` prefixes each error path (e.g. ["input"]).
 * Throws one ValidationError listing every problem found.
 */
export function validateBotGraph(raw: { actions: unknown; startActionId?: string | null; handoffActionId?: string | null; awayActionId?: string | null }, root: string[] = ["input"]): BotGraph {
  const errors: FieldError[] = [];
  const parsed = z.array(actionSchema).max(200, "At most 200 actions").safeParse(raw.actions ?? []);
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((i) => ({ path: [...root, "actions", ...i.path.map(String)], message: i.message })));
  }
  const actions = parsed.data;
  const byId = new Map<string, number>();
  actions.forEach((a, i) => {
    if (byId.has(a.id)) errors.push({ path: [...root, "actions", String(i), "id"], message: `Another action already has the id "${a.id}"` });
    else byId.set(a.id, i);
  });
  const entries: [string, string | null | undefined][] = [
    ["startActionId", raw.startActionId],
    ["handoffActionId", raw.handoffActionId],
    ["awayActionId", raw.awayActionId],
  ];
  if (actions.length === 0) errors.push({ path: [...root, "actions"], message: "A bot needs at least one action" });
  if (!raw.startActionId) errors.push({ path: [...root, "startActionId"], message: "A bot needs a first action" });
  for (const [field, value] of entries) {
    if (value && !byId.has(value)) errors.push({ path: [...root, field], message: `No action has the id "${value}"` });
  }
  actions.forEach((a, i) => {
    for (const [path, to] of edgesOf(a)) {
      if (!byId.has(to)) errors.push({ path: [...root, "actions", String(i), ...path], message: `No action has the id "${to}"` });
    }
    if (a.type === "QUESTION" && a.answer === "OPTIONS" && !a.options?.length) errors.push({ path: [...root, "actions", String(i), "options"], message: "A quick-reply question needs options" });
    if (a.type === "SET_PROPERTY" && a.target === "CONTACT" && !(CONTACT_PROPERTIES as readonly string[]).includes(a.property)) {
      errors.push({ path: [...root, "actions", String(i), "property"], message: `A contact property is one of ${CONTACT_PROPERTIES.join(", ")}` });
    }
    if (a.type === "QUESTION" && a.saveTo?.target === "CONTACT" && !(CONTACT_PROPERTIES as readonly string[]).includes(a.saveTo.property)) {
      errors.push({ path: [...root, "actions", String(i), "saveTo", "property"], message: `A contact property is one of ${CONTACT_PROPERTIES.join(", ")}` });
    }
    if (a.type === "SEND_TO_TEAM" && !a.teamId && !a.userIds?.length) errors.push({ path: [...root, "actions", String(i), "teamId"], message: "Name a team or users" });
  });
  if (errors.length) throw new ValidationError(errors);

  // Reachability from every entry point.
  const seen = new Set<string>();
  const stack = entries.map(([, v]) => v).filter((v): v is string => !!v);
  while (stack.length) {
    const at = stack.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const [, to] of edgesOf(actions[byId.get(at)!])) stack.push(to);
  }
  actions.forEach((a, i) => {
    if (!seen.has(a.id)) errors.push({ path: [...root, "actions", String(i)], message: `Action "${a.id}" cannot be reached from the start` });
  });

  // A cycle through no QUESTION never waits for the visitor: edges out of a question are cut.
  const state = new Map<string, 1 | 2>();
  const visit = (at: string, trail: string[]): string[] | null => {
    state.set(at, 1);
    const action = actions[byId.get(at)!];
    if (action.type !== "QUESTION") {
      for (const [, to] of edgesOf(action)) {
        if (state.get(to) === 1) return [...trail, at, to];
        if (!state.has(to)) {
          const found = visit(to, [...trail, at]);
          if (found) return found;
        }
      }
    }
    state.set(at, 2);
    return null;
  };
  for (const a of actions) {
    if (state.has(a.id)) continue;
    const cycle = visit(a.id, []);
    if (cycle) {
      const start = cycle[cycle.length - 1];
      const loop = cycle.slice(cycle.indexOf(start));
      errors.push({ path: [...root, "actions", String(byId.get(start))], message: `The actions ${loop.join(" -> ")} loop without asking a question` });
      break;
    }
  }
  if (errors.length) throw new ValidationError(errors);
  return { actions, startActionId: raw.startActionId ?? null, handoffActionId: raw.handoffActionId ?? null, awayActionId: raw.awayActionId ?? null };
}

/** Parses stored actions (validated when saved) without the graph checks. */
export function storedActions(json: unknown): ChatflowAction[] {
  const parsed = z.array(actionSchema).safeParse(json);
  return parsed.success ? parsed.data : [];
}

/** Targeting rules for a page: include (any; none means every page) minus exclude (any), then every query rule. */
export function targetingMatches(targeting: Targeting, pageUrl: string | null | undefined): boolean {
  let url: URL | null = null;
  try {
    url = pageUrl ? new URL(pageUrl) : null;
  } catch {
    url = null;
  }
  const full = url ? url.href : (pageUrl ?? "");
  const matches = (r: Targeting["include"][number]) => {
    switch (r.match) {
      case "EQUALS":
        return stripQuery(full) === stripQuery(r.value) || full === r.value;
      case "CONTAINS":
        return full.includes(r.value);
      case "STARTS_WITH":
        return full.startsWith(r.value);
      case "MATCHES":
        return safeRegex(r.value)?.test(full.slice(0, MAX_MATCHED_URL)) ?? false;
    }
  };
  if (targeting.include.length && !targeting.include.some(matches)) return false;
  if (targeting.exclude.some(matches)) return false;
  for (const q of targeting.query) {
    const value = url?.searchParams.get(q.name) ?? null;
    if (value === null || (q.value !== undefined && value !== q.value)) return false;
  }
  return true;
}

const stripQuery = (u: string) => u.replace(/[?#].*$/, "").replace(/\/$/, "");

/** Longest page URL a MATCHES rule is tested against (longer ones are cut): bounds the work per request. */
const MAX_MATCHED_URL = 2048;

/**
 * Whether an admin's pattern is free of the shapes that backtrack exponentially: a repeated group
 * that itself repeats or alternates (`(a+)+`, `(a|aa)*`) and backreferences. The widget query that
 * runs these patterns is public, and one catastrophic pattern would stall every tenant's requests.
 */
export function isLinearPattern(pattern: string): boolean {
  if (/\\[1-9]|\\k</.test(pattern)) return false;
  const groups: { risky: boolean }[] = [];
  let justClosed: { risky: boolean } | null = null;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      justClosed = null;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    const quantifier = c === "*" || c === "+" || (c === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)));
    if (quantifier && justClosed?.risky) return false;
    if (quantifier || c === "|") for (const g of groups) g.risky = true;
    justClosed = null;
    if (c === "[") inClass = true;
    else if (c === "(") groups.push({ risky: false });
    else if (c === ")") justClosed = groups.pop() ?? null;
  }
  return true;
}

/** A MATCHES rule's pattern; null when it does not compile or could backtrack without bound (checked when saved). */
export function safeRegex(pattern: string): RegExp | null {
  if (pattern.length > 300 || !isLinearPattern(pattern)) return null;
  try {
    return new RegExp(pattern);
  } catch {
    return null;
  }
}

/** Checks targeting rules (patterns compile). */
export function parseTargeting(raw: unknown, root: string[] = ["input", "targeting"]): Targeting {
  const parsed = targetingSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => ({ path: [...root, ...i.path.map(String)], message: i.message })));
  const errors: FieldError[] = [];
  for (const list of ["include", "exclude"] as const) {
    parsed.data[list].forEach((r, i) => {
      if (r.match === "MATCHES" && !safeRegex(r.value)) errors.push({ path: [...root, list, String(i), "value"], message: "Not a valid regular expression, or one that could backtrack without bound (a repeated group that repeats or alternates, a backreference, over 300 characters)" });
    });
  }
  if (errors.length) throw new ValidationError(errors);
  return parsed.data;
}
