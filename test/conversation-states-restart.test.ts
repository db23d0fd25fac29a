import { readdir } from "node:fs/promises";
import path from "node:path";
import { GraphQLClient } from "graphql-request";
import { describe, expect, test } from "vitest";
import { CsConversationDocument, CsSnoozeDocument, CsTrashDocument } from "./generated/graphql.js";
import { fromGlobalId } from "../src/schema/ids.js";
import { createTestAccount, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { connectTeamEmail, eml } from "./support/email-ingress.js";
import { startRestartableServer } from "./support/restart.js";
import { eventually } from "./support/eventually.js";

// Its own file: a second server in the process of test/conversation-states.test.ts (whose
// subscriptions share process-wide state) kept that file's server from closing.

/** One email from `from` through POST /inbound/email; returns its conversation's global id and Message-ID. */
async function email(base: string, mailbox: { id: string; address: string; secret: string }, from: string, opts: { html?: string } = {}) {
  const messageId = `<${externalId()}@mail.test>`;
  const body = opts.html ? ["Content-Type: text/html; charset=utf-8", "", opts.html] : ["Content-Type: text/plain; charset=utf-8", "", "Hello there"];
  const raw = eml([`From: ${from}`, `To: ${mailbox.address}`, "Subject: Question", `Message-ID: ${messageId}`, "Date: Wed, 2 Dec 2026 10:00:00 +0000", ...body]);
  const res = await fetch(new URL(`/inbound/email/${mailbox.id}`, base), { method: "POST", headers: { "content-type": "message/rfc822", authorization: `Bearer ${mailbox.secret}` }, body: raw });
  if (res.status !== 202) throw new Error(`inbound email: ${res.status} ${await res.text()}`);
  return (await res.json()) as { conversationId: string };
}

const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("restart", () => {
  test("a snooze due while the server is down wakes at the next start; trash older than 30 days is purged with its files, newer trash is kept", async () => {
    const r = await startRestartableServer();
    try {
      const s = r.server;
      const prisma = s.prisma;
      const acc = await createTestAccount(prisma, { name: "Restart Co" });
      const inbox = await createInbox(prisma, acc.accountId, { userIds: [acc.agent.id] });
      const fake = { tokenFor: (u: { id: string; accountId: string }) => s.services.auth.sign({ typ: "agent", userId: u.id, accountId: u.accountId }, { expiresIn: "1h" }), client: (token?: string) => new GraphQLClient(s.url, { headers: token ? { authorization: `Bearer ${token}` } : {} }) };
      const box = await connectTeamEmail(fake as unknown as TestServer, acc.admin, inbox.id, { address: `restart-${externalId()}@states.test` });
      const admin = fake.client(await fake.tokenFor(acc.admin));
      const snoozed = await email(s.url, box, "Xena <xena@customer.test>");
      const old = await email(s.url, box, "Yuri <yuri@customer.test>", { html: `${"<div>".repeat(600)}x${"</div>".repeat(600)}` });
      const recent = await email(s.url, box, "Zoe <zoe@customer.test>");
      for (const c of [old, recent]) await admin.request(CsTrashDocument, { input: { conversationId: c.conversationId } });
      const day = 24 * 60 * 60_000;
      await prisma.conversation.update({ where: { id: fromGlobalId(old.conversationId, "Conversation") }, data: { trashedAt: new Date(Date.now() - 31 * day) } });
      await prisma.conversation.update({ where: { id: fromGlobalId(recent.conversationId, "Conversation") }, data: { trashedAt: new Date(Date.now() - 29 * day) } });
      const files = () => readdir(path.join(s.services.config.dataDir, "attachments", acc.accountId)).catch(() => []);
      expect(await files()).toHaveLength(1); // the original of the email with the dropped HTML
      await admin.request(CsSnoozeDocument, { input: { conversationId: snoozed.conversationId, until: inFuture(1500) } });

      // Down past the snooze time.
      await s.close();
      await new Promise((done) => setTimeout(done, 2000));
      const next = await r.restart();
      const asAdminAgain = new GraphQLClient(next.url, { headers: { authorization: `Bearer ${await next.services.auth.sign({ typ: "agent", userId: acc.admin.id, accountId: acc.accountId }, { expiresIn: "1h" })}` } });
      const node = async (id: string) => (await asAdminAgain.request(CsConversationDocument, { id })).node as { status: string; snoozedUntil: string | null } | null;
      await eventually(async () => expect(await node(snoozed.conversationId)).toMatchObject({ status: "OPEN", snoozedUntil: null }));
      await eventually(async () => expect(await node(old.conversationId)).toBeNull());
      expect(await next.prisma.message.count({ where: { conversationId: fromGlobalId(old.conversationId, "Conversation") } })).toBe(0);
      expect(await next.prisma.emailOriginal.count({ where: { accountId: acc.accountId } })).toBe(0);
      expect(await files()).toHaveLength(0);
      expect(await node(recent.conversationId)).toMatchObject({ status: "TRASH" });
    } finally {
      await r.close();
    }
  }, 60_000);
});
