import { Writable } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createLogger } from "../src/log.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { eventually } from "./support/eventually.js";

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    done();
  },
});
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({}, { logger: createLogger({ level: "info", destination: sink }) });
});
afterAll(async () => {
  await t?.close();
});

const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

test("each request logs one JSON line with the request id, account id and operation name, and no token", async () => {
  const a = await createTestAccount(t.prisma);
  const token = await t.tokenFor(a.agent);
  const res = await fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": "req-log-1" },
    body: JSON.stringify({ query: "query LoggedViewer { viewer { id } }" }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-request-id")).toBe("req-log-1");
  const line = await eventually(async () => {
    const found = parsed().find((l) => l.requestId === "req-log-1");
    expect(found).toBeDefined();
    return found!;
  });
  expect(line).toMatchObject({ level: "info", msg: "request", route: "/graphql", status: 200, operationName: "LoggedViewer", operationType: "query", accountId: a.accountId, userId: a.agent.id, caller: "agent" });
  expect(typeof line.time).toBe("string");
  expect(lines.join("\n")).not.toContain(token);
});

test("a request without x-request-id gets a generated one, returned in the header", async () => {
  const res = await fetch(t.url.replace("/graphql", "/health"));
  const id = res.headers.get("x-request-id");
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
});

test("an unexpected failure logs its error with the request id; a token in the error text is redacted", async () => {
  const a = await createTestAccount(t.prisma);
  const token = await t.tokenFor(a.agent);
  // A transport request that throws inside its handler: the error carries the caller's token.
  const logger = t.server.services.logger;
  logger.error({ requestId: "req-log-2", err: new Error(`upstream refused Bearer ${token}`), headers: { authorization: `Bearer ${token}` } }, `failed for ${token}`);
  const line = parsed().find((l) => l.requestId === "req-log-2")!;
  expect(line.level).toBe("error");
  expect(JSON.stringify(line)).toContain("[redacted");
  expect(lines.join("\n")).not.toContain(token);
});

test("WebSocket operations log their own line with account and operation name; connectionParams' token is not logged", async () => {
  const a = await createTestAccount(t.prisma);
  const token = await t.tokenFor(a.agent);
  const ws = t.ws(token);
  const result = await new Promise<unknown>((resolve, reject) => {
    ws.subscribe({ query: "query WsViewer { viewer { id } }" }, { next: resolve, error: reject, complete: () => {} });
  });
  expect(result).toMatchObject({ data: { viewer: { id: expect.any(String) } } });
  const line = await eventually(async () => {
    const found = parsed().find((l) => l.operationName === "WsViewer");
    expect(found).toBeDefined();
    return found!;
  });
  expect(line).toMatchObject({ transport: "websocket", accountId: a.accountId, operationType: "query" });
  expect(typeof line.requestId).toBe("string");
  expect(lines.join("\n")).not.toContain(token);
});
