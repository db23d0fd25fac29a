import { afterAll, beforeAll, expect, test } from "vitest";
import { ChConnectDocument, ChUpdateDocument } from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { startGraphApiFake } from "./support/graph-api-fake.js";

let t: TestServer;
let graph: Awaited<ReturnType<typeof startGraphApiFake>>;
beforeAll(async () => {
  graph = await startGraphApiFake();
  // The server's own delivery worker sends the greeting (the real path, no test worker).
  t = await startTestServer({ GRAPH_API_BASE_URL: graph.url, META_ACCESS_TOKEN: "page-token" });
});
afterAll(async () => {
  await t?.close();
  await graph?.close();
});

test("a Messenger channel's greeting is set on the page through the Messenger Profile API, again when it changes", async () => {
  const acc = await createTestAccount(t.prisma);
  const admin = t.client(await t.tokenFor(acc.admin));
  const connected = await admin.request(ChConnectDocument, {
    input: { inboxId: toGlobalId("Inbox", acc.helpDeskId), name: "Page", facebookMessenger: { pageId: "998877", pageName: "Acme page", greeting: "Hello from Acme" } },
  });
  expect(connected.connectChannel.__typename).toBe("ConnectChannelResult");
  await expect.poll(() => graph.profileRequests.length).toBe(1);
  expect(graph.profileRequests[0]).toMatchObject({ path: "/v19.0/998877/messenger_profile", authorization: "Bearer page-token", json: { greeting: [{ locale: "default", text: "Hello from Acme" }] } });

  const channelId = connected.connectChannel.__typename === "ConnectChannelResult" ? connected.connectChannel.channel.id : "";
  await admin.request(ChUpdateDocument, { input: { channelId, name: "Page renamed" } });
  await admin.request(ChUpdateDocument, { input: { channelId, facebookMessenger: { greeting: "Welcome back" } } });
  await expect.poll(() => graph.profileRequests.length).toBe(2);
  expect(graph.profileRequests.map((r) => r.json.greeting?.[0]?.text)).toEqual(["Hello from Acme", "Welcome back"]);
  expect(graph.requests).toEqual([]);
  // The worker records the outcome right after the Graph API answers.
  await expect
    .poll(async () => (await t.prisma.outboundDelivery.findMany({ where: { accountId: acc.accountId }, orderBy: { createdAt: "asc" } })).map((r) => [r.kind, r.state]))
    .toEqual([
      ["GRAPH_API", "DONE"],
      ["GRAPH_API", "DONE"],
    ]);
});
