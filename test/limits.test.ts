import { print } from "graphql";
import { createSchema, createYoga } from "graphql-yoga";
import { createMaskError, useRequestIdMasking, useRequestIdOnResponse } from "../src/http/errors.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HardeningHeartbeatDocument } from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createLogger } from "../src/log.js";

type Reply = { status: number; headers: Headers; body: any };

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed };
}

const codes = (r: Reply) => (r.body.errors ?? []).map((e: any) => e.extensions?.code);

/** viewer { teams { members { teams { ... } } } } nested to `depth` fields. */
function deepQuery(depth: number): string {
  let inner = "id";
  for (let d = depth - 1; d >= 1; d--) inner = `${d === 1 ? "viewer" : d % 2 === 0 ? "teams" : "members"} { ${inner} }`;
  return `{ ${inner} }`;
}

describe("query limits (defaults)", () => {
  let t: TestServer;
  let token: string;
  const auth = () => ({ authorization: `Bearer ${token}` });
  beforeAll(async () => {
    t = await startTestServer();
    const account = await createTestAccount(t.prisma);
    token = await t.tokenFor(account.agent);
  });
  afterAll(async () => t?.close());

  it("accepts depth 10 and refuses depth 11", async () => {
    const ok = await post(t.url, { query: deepQuery(10) }, auth());
    expect(ok.body.errors).toBeUndefined();
    const refused = await post(t.url, { query: deepQuery(11) }, auth());
    expect(refused.status).toBe(400);
    expect(codes(refused)).toEqual(["QUERY_TOO_DEEP"]);
    expect(refused.body.data).toBeUndefined();
  });

  it("does not count fragments as a way around the depth limit", async () => {
    const query = `query { ...A } fragment A on Query { viewer { teams { ...B } } } fragment B on Team { members { teams { members { teams { members { teams { members { teams { id } } } } } } } } }`;
    expect(codes(await post(t.url, { query }, auth()))).toContain("QUERY_TOO_DEEP");
  });

  it("refuses more than 15 aliases", async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    expect((await post(t.url, { query: aliases(15) })).body).toEqual({ data: Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`a${i}`, "Query"])) });
    expect(codes(await post(t.url, { query: aliases(16) }))).toEqual(["TOO_MANY_ALIASES"]);
  });

  it("refuses more than 50 directives", async () => {
    const query = `{ __typename ${"@include(if: true) ".repeat(51)} }`;
    expect(codes(await post(t.url, { query }))).toContain("TOO_MANY_DIRECTIVES");
  });

  it("refuses documents over 1000 tokens and over 15000 characters", async () => {
    const tokens = await post(t.url, { query: `{ ${"__typename ".repeat(1001)} }` });
    expect(tokens.status).toBe(400);
    expect(tokens.body.errors[0].message).toMatch(/more tha[nt] 1000 tokens/);
    const chars = await post(t.url, { query: `{ __typename }\n# ${"x".repeat(15_000)}` });
    expect(chars.status).toBe(400);
    expect(codes(chars)).toEqual(["QUERY_TOO_LARGE"]);
  });

  it("caps first at 100 on connections, literal or variable", async () => {
    const literal = await post(t.url, { query: `{ contacts(first: 101) { edges { cursor } } }` }, auth());
    expect(codes(literal)).toEqual(["PAGE_SIZE_TOO_LARGE"]);
    expect(literal.body.errors[0].message).toMatch(/between 0 and 100, got 101/);
    const variable = await post(t.url, { query: `query ($n: Int) { contacts(first: $n) { edges { cursor } } }`, variables: { n: 5000 } }, auth());
    expect(codes(variable)).toEqual(["PAGE_SIZE_TOO_LARGE"]);
    const ok = await post(t.url, { query: `{ contacts(first: 100) { edges { cursor } } }` }, auth());
    expect(ok.body.errors).toBeUndefined();
  });

  it("weights cost by first: nested pages of 100 are refused", async () => {
    const query = `{ conversations(first: 100) { edges { node { messages(first: 100) { edges { node { id } } } } } } }`;
    const refused = await post(t.url, { query }, auth());
    expect(codes(refused)).toEqual(["QUERY_TOO_COMPLEX"]);
    const cheap = `{ conversations(first: 10) { edges { node { messages(first: 10) { edges { node { id } } } } } } }`;
    expect((await post(t.url, { query: cheap }, auth())).body.errors).toBeUndefined();
  });

  it("refuses NUL characters in variables and literals (the database cannot store them) as the field's ValidationError", async () => {
    const selection = "{ __typename ... on ValidationError { fieldErrors { path } } }";
    const viaVariable = await post(t.url, { query: `mutation ($i: CreateTeamInput!) { createTeam(input: $i) ${selection} }`, variables: { i: { name: "a\u0000b" } } }, auth());
    expect(viaVariable.body).toEqual({ data: { createTeam: { __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] } } });
    const viaLiteral = await post(t.url, { query: `mutation { createTeam(input: { name: "a\\u0000b" }) ${selection} }` }, auth());
    expect(viaLiteral.body).toEqual(viaVariable.body);
  });

  it("computes depth and cost once per fragment: ten spreads of the next fragment, eight levels deep, neither stall nor hide depth", async () => {
    const bomb = (levels: number, leaf: string) => {
      let doc = "query { ...F0 }";
      for (let i = 0; i < levels - 1; i++) doc += ` fragment F${i} on Query { ${`...F${i + 1} `.repeat(10)}}`;
      return `${doc} fragment F${levels - 1} on Query { ${leaf} }`;
    };
    expect((await post(t.url, { query: bomb(12, "__typename") })).body).toEqual({ data: { __typename: "Query" } });
    expect(codes(await post(t.url, { query: bomb(8, "viewer { id }") }, auth()))).toEqual(["QUERY_TOO_COMPLEX"]);
    // The same fragment reached along many paths still counts its full depth.
    expect(codes(await post(t.url, { query: bomb(8, deepQuery(11).slice(1, -1)) }, auth()))).toEqual(["QUERY_TOO_DEEP"]);
  });

  it("has batching off", async () => {
    const res = await post(t.url, [{ query: "{ __typename }" }, { query: "{ __typename }" }]);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it("blocks cross-site simple POSTs (CSRF) unless a preflight header is present", async () => {
    const form = await post(t.url, "query=%7B__typename%7D", { "content-type": "application/x-www-form-urlencoded" });
    expect(form.status).toBe(400);
    expect(codes(form)).toEqual(["CSRF_BLOCKED"]);
    const text = await post(t.url, JSON.stringify({ query: "{ __typename }" }), { "content-type": "text/plain" });
    expect(codes(text)).toEqual(["CSRF_BLOCKED"]);
    const withHeader = await post(t.url, "query=%7B__typename%7D", { "content-type": "application/x-www-form-urlencoded", "x-graphql-csrf": "1" });
    expect(withHeader.body).toEqual({ data: { __typename: "Query" } });
  });

  it("applies the same limits to WebSocket operations", async () => {
    const client = t.ws(token);
    const run = (query: string) =>
      new Promise<unknown>((resolve) => {
        client.subscribe({ query }, { next: resolve, error: resolve, complete: () => {} });
      });
    expect(JSON.stringify(await run(deepQuery(11)))).toContain("QUERY_TOO_DEEP");
    expect(JSON.stringify(await run(`{ contacts(first: 500) { edges { cursor } } }`))).toContain("PAGE_SIZE_TOO_LARGE");
    const aliased = `subscription { ${Array.from({ length: 16 }, (_, i) => `h${i}: heartbeat(intervalMs: 100)`).join(" ")} }`;
    const refused = JSON.stringify(await run(aliased));
    expect(refused).toContain("TOO_MANY_ALIASES");
    expect(refused).not.toContain('"http"');
    // and a well-formed subscription still works
    const first = await run(print(HardeningHeartbeatDocument));
    expect(first).toEqual({ data: { heartbeat: 1 } });
  });

  it("applies the same limits to SSE subscriptions", async () => {
    const res = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...auth() },
      body: JSON.stringify({ query: `subscription { ${Array.from({ length: 16 }, (_, i) => `h${i}: heartbeat`).join(" ")} }` }),
    });
    const text = await res.text();
    expect(text).toContain("TOO_MANY_ALIASES");
  });
});

describe("production mode", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ NODE_ENV: "production" });
  });
  afterAll(async () => t?.close());

  it("turns off introspection, field suggestions and GraphiQL", async () => {
    const introspection = await post(t.url, { query: "{ __schema { types { name } } }" });
    expect(introspection.status).toBe(400);
    expect(introspection.body.errors[0].message).toMatch(/introspection/i);
    const typo = await post(t.url, { query: "{ viewr }" });
    expect(typo.body.errors[0].message).toBe('Cannot query field "viewr" on type "Query".');
    const page = await fetch(t.url, { headers: { accept: "text/html" } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });
});

describe("unexpected errors", () => {
  it("are masked, logged with the request id, and the response carries that id", async () => {
    const logs: string[] = [];
    const log = createLogger({ level: "error", destination: { write: (m: string) => logs.push(m) } });
    const yoga = createYoga<{ requestId: string }>({
      schema: createSchema({
        typeDefs: "type Query { boom: String, fine: String }",
        resolvers: { Query: { boom: () => { throw new Error("connect ECONNREFUSED db.internal:5432 at /srv/app/src/db.ts:12"); }, fine: () => "ok" } },
      }),
      logging: false,
      maskedErrors: { maskError: createMaskError(log) },
      plugins: [useRequestIdMasking(log), useRequestIdOnResponse()],
    });
    const res = await yoga.fetch("http://test/graphql", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ boom fine }" }) }, { requestId: "req-42" });
    const body = await res.json();
    expect(body.data).toEqual({ boom: null, fine: "ok" });
    expect(body.errors).toEqual([{ message: "Unexpected error.", path: ["boom"], locations: [{ line: 1, column: 3 }], extensions: { code: "INTERNAL_SERVER_ERROR", requestId: "req-42" } }]);
    expect(logs.join("\n")).toMatch(/"requestId":"req-42","path":"boom".*ECONNREFUSED/);
  });
});
