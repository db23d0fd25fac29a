import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

describe("GraphQL over HTTP (graphql-http serverAudits)", () => {
  it("passes every MUST and SHOULD audit", async () => {
    const audits = serverAudits({ url: t.url, fetchFn: fetch });
    const results = await Promise.all(audits.map(async (audit) => ({ name: audit.name, result: await audit.fn() })));
    const level = (name: string) => name.split(" ")[0];
    const failed = results.filter((r) => r.result.status !== "ok" && ["MUST", "SHOULD"].includes(level(r.name)));
    const counts = Object.fromEntries(
      ["MUST", "SHOULD", "MAY"].map((l) => {
        const of = results.filter((r) => level(r.name) === l);
        return [l, `${of.filter((r) => r.result.status === "ok").length}/${of.length}`];
      }),
    );
    console.log("graphql-http audits passed:", counts);
    expect(failed.map((f) => `${f.name}: ${f.result.status === "ok" ? "" : f.result.reason}`)).toEqual([]);
  });
});
