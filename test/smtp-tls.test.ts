import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestAccount, startTestServer, type TestServer } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { connectTeamEmail, eml } from "./support/email-ingress.js";
import { fakeResolver } from "./support/fake-dns.js";

let t: TestServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "smtp-tls-"));
  const [cert, key] = [path.join(dir, "cert.pem"), path.join(dir, "key.pem")];
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=mx.inbox.test"], { stdio: "ignore" });
  t = await startTestServer({ DELIVERY_WORKER: "false", SMTP_LISTEN: "127.0.0.1:0", SMTP_TLS_CERT: cert, SMTP_TLS_KEY: key, SMTP_HOSTNAME: "mx.inbox.test" });
  t.config.transports.email.resolver = fakeResolver().resolver;
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("STARTTLS is offered with the configured certificate, and mail sent over it lands", async () => {
  const a = await createTestAccount(t.prisma);
  const inbox = await createInbox(t.prisma, a.accountId);
  const ch = await connectTeamEmail(t, a.admin, inbox.id, { address: `support-${externalId()}@acme.test` });
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: t.server.smtp!.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false, servername: "mx.inbox.test" } });
  const id = `<tls-${externalId()}@customer.test>`;
  try {
    const info = await transport.sendMail({ envelope: { from: "tess@customer.test", to: [ch.address] }, raw: eml(["From: tess@customer.test", `To: ${ch.address}`, "Subject: Over TLS", `Message-ID: ${id}`, "", "Encrypted"]) });
    // requireTLS: nodemailer refuses to send unless STARTTLS succeeded, so a 250 means the mail went encrypted.
    expect(info.response).toMatch(/^250 /);
  } finally {
    transport.close();
  }
  expect(await t.prisma.message.count({ where: { accountId: a.accountId, externalId: id } })).toBe(1);
});
