import { randomUUID } from "node:crypto";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";

/**
 * Generated malformed operations against every mutation of the live schema (introspected at test
 * time, so mutations added later are covered), plus malformed HTTP bodies. Every response must be
 * a non-5xx without internals, and a batch of refused requests must leave the database unchanged.
 */

// About 1,800 generated operations in all, however many mutations the schema grows.
const TOTAL_MUTATION_CASES = 1800;
const CONCURRENCY = 8;
// Internals that must never reach a client: stack frames, file paths, ORM messages.
const LEAK = /(\n\s*at |\bat \S+ \(|node_modules|\/work\/|\/src\/|\.ts:\d+|\.js:\d+|prisma|Invalid `|P2\d\d\d\b|ECONNREFUSED)/i;

/** Deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(7);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

function nested(depth: number, leaf: unknown, array: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
}

const STRING_GARBAGE = [
  "",
  "A".repeat(100_000),
  "😀".repeat(20_000),
  "\u0000\u0001\u001f",
  "\ud800 lone surrogate \udfff",
  "\u202e right-to-left",
  "' OR 1=1; DROP TABLE \"User\"; --",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  "%s%s%n${jndi:ldap://x}",
  "2026-13-45T99:99:99Z",
  "#zzzzzz",
  "   ",
  "not-an-email@",
];

const GARBAGE: Array<() => unknown> = [
  () => 12345,
  () => -1,
  () => 2 ** 31,
  () => 1e308,
  () => 1.5,
  () => true,
  () => "",
  () => "not-a-thing",
  () => null,
  () => [],
  () => ({}),
  () => ({ unexpected: "field" }),
  () => ["a", 1, null],
  () => "A".repeat(100_000),
  () => "😀".repeat(20_000),
  () => "\u0000\u0001\u001f",
  () => "\ud800 lone surrogate \udfff",
  () => "\u202e right-to-left",
  () => "' OR 1=1; DROP TABLE \"User\"; --",
  () => "<script>alert(1)</script>",
  () => "../../../../etc/passwd",
  () => "%s%s%n${jndi:ldap://x}",
  () => "2026-13-45T99:99:99Z",
  () => "#zzzzzz",
  () => nested(300, "deep", false),
  () => nested(300, 1, true),
];

interface Ids {
  own: Record<string, string[]>;
  foreign: string[];
}

function idGarbage(ids: Ids): string {
  return pick([
    () => pick(ids.foreign), // another account's real object
    () => pick(Object.values(ids.own).flat()), // a real object, probably of another type
    () => toGlobalId(pick(Object.keys(ids.own)), randomUUID()), // the right shape, unknown row
    () => toGlobalId("NoSuchType", "1"),
    () => Buffer.from("garbage").toString("base64"),
    () => "%%%not base64%%%",
    () => randomUUID(), // a raw database id, not a global one
  ])();
}

/** A plausible value of `type`, recording every leaf slot (path + type) that can be corrupted. */
function baseline(type: GraphQLInputType, ids: Ids, path: Array<string | number>, slots: Array<{ path: Array<string | number>; type: GraphQLInputType }>, depth = 0): unknown {
  slots.push({ path, type });
  if (isNonNullType(type)) {
    slots.pop();
    return baseline(type.ofType, ids, path, slots, depth);
  }
  if (isListType(type)) return depth > 4 ? [] : [baseline(type.ofType, ids, [...path, 0], slots, depth + 1)];
  if (isInputObjectType(type)) {
    if (depth > 4) return {};
    const fields = Object.values(type.getFields());
    const chosen = (type as { isOneOf?: boolean }).isOneOf ? [pick(fields)] : fields.filter((f) => isNonNullType(f.type) || random() < 0.5);
    return Object.fromEntries(chosen.map((f) => [f.name, baseline(f.type, ids, [...path, f.name], slots, depth + 1)]));
  }
  if (isEnumType(type)) return pick(type.getValues()).name;
  switch (type.name) {
    case "Int":
      return 1;
    case "Float":
      return 1.5;
    case "Boolean":
      return true;
    case "ID":
      return pick(Object.values(ids.own).flat());
    case "DateTime":
      return new Date().toISOString();
    case "JSONObject":
      return { key: "value" };
    default:
      return "text";
  }
}

function setAt(root: Record<string, unknown>, path: Array<string | number>, value: unknown) {
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node?.[key];
  // An earlier corruption may have replaced an ancestor: then this slot is gone.
  if (node && typeof node === "object") node[path[path.length - 1]] = value;
}

function typeString(type: GraphQLInputType): string {
  return String(type);
}

interface Case {
  label: string;
  init: RequestInit;
}

function mutationCases(schema: GraphQLSchema, ids: Ids, tokens: Array<string | undefined>): Case[] {
  const mutations = Object.values(schema.getMutationType()?.getFields() ?? {}) as Array<GraphQLField<unknown, unknown>>;
  const cases: Case[] = [];
  for (const field of mutations) {
    const selection = isLeafType(getNamedType(field.type)) ? "" : "{ __typename }";
    const varDefs = field.args.map((a) => `$${a.name}: ${typeString(a.type)}`).join(", ");
    const args = field.args.map((a) => `${a.name}: $${a.name}`).join(", ");
    const query = `mutation Bad${varDefs ? `(${varDefs})` : ""} { ${field.name}${args ? `(${args})` : ""} ${selection} }`;
    for (let i = 0; i < Math.max(20, Math.floor(TOTAL_MUTATION_CASES / mutations.length)); i++) {
      const slots: Array<{ path: Array<string | number>; type: GraphQLInputType }> = [];
      const variables: Record<string, unknown> = {};
      for (const arg of field.args) variables[arg.name] = baseline(arg.type, ids, [arg.name], slots);
      // One to three corruptions; ID slots get plausible-but-wrong ids half of the time.
      for (let n = 1 + Math.floor(random() * 3); n > 0 && slots.length; n--) {
        const slot = pick(slots);
        // Well-typed garbage (wrong ids, hostile strings) reaches the services; the rest tests coercion.
        const named = getNamedType(slot.type).name;
        const value =
          named === "ID" && random() < 0.6 ? idGarbage(ids) : named === "String" && random() < 0.6 ? pick(STRING_GARBAGE) : pick(GARBAGE)();
        if (slot.path.length === 1) variables[slot.path[0] as string] = value;
        else setAt(variables, slot.path, value);
      }
      let body: unknown = { query, variables };
      const roll = random();
      if (roll < 0.04) body = { query, variables: "not an object" };
      else if (roll < 0.08) body = { query }; // required variables missing
      else if (roll < 0.1) body = { query: query.replace("mutation", "mutation mutation"), variables };
      const token = pick(tokens);
      cases.push({
        label: `${field.name} #${i}`,
        init: { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) },
      });
    }
  }
  return cases;
}

function rawCases(token: string): Case[] {
  const json = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const post = (label: string, body: BodyInit, headers: Record<string, string> = json): Case => ({ label, init: { method: "POST", headers, body } });
  const bigVariables = JSON.stringify({ query: "mutation ($n: String!) { __typename }", variables: { n: "x".repeat(1024 * 1024 + 10) } });
  const cases: Case[] = [
    ...["{", "[", "null", "1", '"str"', "{}", '{"query": 1}', '{"query": null}', '{"query": "{ __typename }", "variables": "x"}', '{"query":"{ __typename }","extensions":"x"}', '{"query":"{ __typename }","operationName":5}', ""].map((b, i) => post(`raw json ${i}`, b)),
    post("invalid utf-8 in body", Buffer.from([0x7b, 0x22, 0x71, 0x75, 0x65, 0x72, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d])),
    post("invalid utf-8 in variables", Buffer.concat([Buffer.from('{"query":"query ($s: String) { __typename }","variables":{"s":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}}')])),
    post("oversized body", bigVariables),
    post("deeply nested json", `{"query":"{ __typename }","variables":{"v":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`),
    post("deeply nested query", JSON.stringify({ query: `{ ${"viewer { ".repeat(2000)}id${" }".repeat(2000)} }` })),
    post("unbalanced query", JSON.stringify({ query: "{".repeat(5000) })),
    post("xml", "<query/>", { "content-type": "application/xml", authorization: `Bearer ${token}` }),
    post("graphql string", "{ __typename }", { "content-type": "application/graphql" }),
    post("bad bearer", JSON.stringify({ query: "{ viewer { id } }" }), { "content-type": "application/json", authorization: "Bearer " + "x".repeat(4000) }),
    post("basic auth", JSON.stringify({ query: "{ viewer { id } }" }), { "content-type": "application/json", authorization: "Basic YTpi" }),
    post("alg none token", JSON.stringify({ query: "{ viewer { id } }" }), { "content-type": "application/json", authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." }),
    { label: "GET mutation", init: { method: "GET" }, path: "?query=" + encodeURIComponent("mutation { __typename }") } as Case,
    { label: "GET garbage", init: { method: "GET" }, path: "?query=%ff%fe&variables=%7B" } as Case,
    { label: "PUT", init: { method: "PUT", headers: json, body: "{}" } },
  ];
  // The same oversized body without Content-Length (chunked) must also be refused.
  cases.push({
    label: "oversized chunked body",
    init: {
      method: "POST",
      headers: json,
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(bigVariables));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit,
  });
  return cases;
}

let t: TestServer;
let schema: GraphQLSchema;
let ids: Ids;
const tokens: Array<string | undefined> = [];

/**
 * A fingerprint of every table's content: a refused request must not change any. Columns that
 * background workers own are left out: the event dispatcher stamps `Event.publishedAt` on rows an
 * earlier, accepted request wrote, whenever it gets to them.
 */
async function snapshot(): Promise<Record<string, string>> {
  const tables = await t.prisma.$queryRawUnsafe<Array<{ name: string }>>(
    `SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  const sql = tables.map((tb) => `SELECT '${tb.name}' AS name, count(*)::text || ':' || coalesce(md5(string_agg((to_jsonb(x) - 'publishedAt')::text, ',' ORDER BY (to_jsonb(x) - 'publishedAt')::text)), '') AS print FROM "${tb.name}" x`).join(" UNION ALL ");
  const rows = await t.prisma.$queryRawUnsafe<Array<{ name: string; print: string }>>(sql);
  return Object.fromEntries(rows.map((r) => [r.name, r.print]));
}

function refused(status: number, body: any): boolean {
  if (status !== 200 || !body || typeof body !== "object") return true;
  if (body.errors?.length) return true;
  if (!body.data) return true;
  return Object.values(body.data).some((v: any) => v === null || (typeof v === "object" && /Error$/.test(v.__typename ?? "")));
}

beforeAll(async () => {
  // No outbound worker: it would update deliveries queued by accepted requests between snapshots.
  t = await startTestServer({ DELIVERY_WORKER: "false" });
  const a = await createTestAccount(t.prisma);
  const b = await createTestAccount(t.prisma);
  const partner = await t.prisma.partner.create({ data: { name: "Bad Input Partner" } });
  tokens.push(await t.tokenFor(a.superAdmin), await t.tokenFor(a.superAdmin), await t.tokenFor(a.superAdmin), await t.tokenFor(a.agent));
  tokens.push(await t.server.services.auth.sign({ typ: "partner", partnerId: partner.id }), undefined);
  const pipeline = await t.prisma.pipeline.findFirst({ where: { accountId: a.accountId } });
  ids = {
    own: {
      User: [a.superAdmin.id, a.admin.id, a.agent.id].map((id) => toGlobalId("User", id)),
      Inbox: [toGlobalId("Inbox", a.helpDeskId)],
      Pipeline: pipeline ? [toGlobalId("Pipeline", pipeline.id)] : [],
      Account: [toGlobalId("Account", a.accountId)],
    },
    foreign: [toGlobalId("User", b.agent.id), toGlobalId("Inbox", b.helpDeskId), toGlobalId("Account", b.accountId)],
  };
  const res = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: getIntrospectionQuery() }) });
  schema = buildClientSchema(((await res.json()) as { data: IntrospectionQuery }).data);
});
afterAll(async () => t?.close());

describe("bad input", () => {
  it("never answers 5xx or leaks internals, and refused requests change nothing", { timeout: 120_000 }, async () => {
    const cases = [...rawCases(tokens[0]!), ...mutationCases(schema, ids, tokens)];
    const problems: string[] = [];
    let checkedBatches = 0;
    const accepted: string[] = [];
    let snapshotMs = 0;
    let before = await snapshot();
    const statuses: Record<number, number> = {};
    for (let i = 0; i < cases.length; i += CONCURRENCY) {
      const batch = cases.slice(i, i + CONCURRENCY);
      const outcomes = await Promise.all(
        batch.map(async (c) => {
          const res = await fetch(t.url + ((c as { path?: string }).path ?? ""), c.init);
          const text = await res.text();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status >= 500) problems.push(`${c.label}: HTTP ${res.status} ${text.slice(0, 300)}`);
          if (LEAK.test(text)) problems.push(`${c.label}: leaks internals: ${text.match(LEAK)?.[0]} in ${text.slice(0, 300)}`);
          if (text.includes("INTERNAL_SERVER_ERROR")) problems.push(`${c.label}: bad input caused an unexpected error: ${text.slice(0, 300)}`);
          if (!res.headers.get("x-request-id")) problems.push(`${c.label}: no x-request-id`);
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {}
          return refused(res.status, body);
        }),
      );
      const s0 = Date.now();
      const after = await snapshot();
      snapshotMs += Date.now() - s0;
      if (outcomes.every(Boolean)) {
        checkedBatches++;
        for (const table of Object.keys(before)) if (before[table] !== after[table]) problems.push(`batch at ${batch[0].label}: refused requests changed table ${table}`);
      } else outcomes.forEach((r, k) => r || accepted.push(batch[k].label));
      before = after;
    }
    console.log(`bad input: ${cases.length} requests, statuses ${JSON.stringify(statuses)}, ${accepted.length} accepted (${[...new Set(accepted.map((l) => l.split(" ")[0]))].join(", ")}), ${checkedBatches}/${Math.ceil(cases.length / CONCURRENCY)} batches checked unchanged, ${snapshotMs} ms in snapshots`);
    expect(problems.slice(0, 30)).toEqual([]);
    expect(cases.length).toBeGreaterThan(1000);
    expect(statuses[413]).toBeGreaterThanOrEqual(2);
    expect(checkedBatches).toBeGreaterThan(cases.length / CONCURRENCY / 2);
  });
});
