import { afterAll, beforeAll, expect, test } from "vitest";
import { ViewerDocument } from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => t?.close());

test("an agent reads itself", async () => {
  const acc = await createTestAccount(t.prisma);
  const data = await t.client(await t.tokenFor(acc.agent)).request(ViewerDocument);
  expect(data.viewer.email).toBe(acc.agent.email);
});
