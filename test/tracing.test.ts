import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { startTracing } from "../src/tracing.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { eventually } from "./support/eventually.js";

/** A tiny OTLP/HTTP receiver: records the JSON bodies POSTed to /v1/traces. */
const bodies: Array<{ path: string; contentType?: string; json: any }> = [];
const receiver = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    bodies.push({ path: req.url ?? "", contentType: req.headers["content-type"], json: JSON.parse(body || "{}") });
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
let t: TestServer;

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  t = await startTestServer({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "inbox-test" });
});
afterAll(async () => {
  await t?.close();
  receiver.close();
});

test("tracing is off without an endpoint: no plugin, no SDK loaded", async () => {
  const config = loadConfig({ NODE_ENV: "test" });
  expect(config.tracing.tracesUrl).toBeUndefined();
  expect(await startTracing(config.tracing)).toBeUndefined();
  expect(loadConfig({ NODE_ENV: "test", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracing.tracesUrl).toBe("http://collector:4318/v1/traces");
});

test("with OTEL_EXPORTER_OTLP_ENDPOINT set, an operation's spans reach the collector as OTLP JSON, without variables", async () => {
  const a = await createTestAccount(t.prisma);
  const token = await t.tokenFor(a.agent);
  // A variable whose value must not leave the server: whatever the field answers, spans omit it.
  const res = await fetch(t.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "query TracedViewer($id: ID!) { viewer { id } node(id: $id) { id } }", variables: { id: "do-not-export-me" } }),
  });
  expect((await res.json()).data?.viewer?.id).toBeTruthy();
  const spans = await eventually(async () => {
    const all = bodies.flatMap((b) => b.json.resourceSpans ?? []).flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans));
    expect(all.some((s: any) => String(s.name).includes("TracedViewer"))).toBe(true);
    return all;
  });
  expect(bodies[0].path).toBe("/v1/traces");
  expect(bodies[0].contentType).toContain("application/json");
  const service = bodies[0].json.resourceSpans[0].resource.attributes.find((x: any) => x.key === "service.name");
  expect(service.value.stringValue).toBe("inbox-test");
  const op = spans.find((s: any) => String(s.name).includes("TracedViewer"));
  expect(op.attributes.find((x: any) => x.key === "graphql.execute.operationName")?.value.stringValue).toBe("TracedViewer");
  expect(JSON.stringify(bodies)).not.toContain("do-not-export-me");
}, 30_000);
