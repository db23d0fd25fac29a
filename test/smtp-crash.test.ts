import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { rm } from "node:fs/promises";
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startServer } from "../src/server.js";
import { teamEmailSettings } from "../src/services/channel-settings.js";
import { createTestAccount, testServerConfig } from "./support/server.js";
import { createInbox, externalId } from "./support/conversation-fixtures.js";
import { eml, smtpSend } from "./support/email-ingress.js";
import { startStallingDns } from "./support/fake-dns.js";

/**
 * The server runs in a child process (the real entry point, `npm start`'s) on a database that
 * outlives it: a throwaway PostgreSQL database with DATABASE_URL, else an embedded one in a data
 * directory. The child is killed with SIGKILL while a message is between DATA and its commit;
 * the client must see an error, nothing may be stored, and the client's retry lands once.
 */
let setup: Awaited<ReturnType<typeof testServerConfig>>;
let dns: Awaited<ReturnType<typeof startStallingDns>>;
let address: string;
let accountId: string;
const children: ChildProcess[] = [];
// Each case starts the entry point twice (tsx compiles it each time) and the database in-process twice.
const CHILD_TIMEOUT = 300_000;

beforeAll(async () => {
  setup = await testServerConfig("inbox-smtp-crash-", { DELIVERY_WORKER: "false" });
  // Set the account up in-process, then hand the database to the child.
  const server = await startServer(setup.config, { log: () => {} });
  const a = await createTestAccount(server.prisma);
  accountId = a.accountId;
  const inbox = await createInbox(server.prisma, a.accountId);
  address = `support-${externalId()}@acme.test`;
  await server.prisma.channel.create({ data: { accountId, inboxId: inbox.id, type: "TEAM_EMAIL", name: "Support", emailAddress: address, settings: teamEmailSettings.parse({ address }) } });
  await server.close();
  dns = await startStallingDns();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await dns?.close();
  await setup?.database?.drop();
  if (setup) await rm(setup.dataDir, { recursive: true, force: true });
});

/** Starts `src/index.ts` on the test database with the SMTP receiver on an ephemeral port; resolves with its port. */
async function startChild() {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "development",
    LOG_LEVEL: "info",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: setup.dataDir,
    JWT_SECRET: setup.config.jwt.secret,
    SEED_ON_FIRST_START: "false",
    DELIVERY_WORKER: "false",
    SMTP_LISTEN: "127.0.0.1:0",
    EMAIL_AUTH_DNS_SERVERS: dns.address,
    EMAIL_AUTH_DNS_TIMEOUT_MS: "60000",
  };
  delete env.REDIS_URL;
  if (setup.database) env.DATABASE_URL = setup.database.url;
  else delete env.DATABASE_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
    child.stdout!.on("data", () => {
      const match = /SMTP receiver listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
  return { child, port };
}

/** What the database holds for `messageId`, read in-process once no child runs. */
async function stored(messageId: string) {
  const server = await startServer(setup.config, { log: () => {} });
  try {
    const messages = await server.prisma.message.findMany({ where: { accountId, externalId: messageId } });
    const conversations = await server.prisma.conversation.count({ where: { accountId, threadKey: messageId } });
    return { messages: messages.length, conversations };
  } finally {
    await server.close();
  }
}

test("a SIGKILL between DATA and the commit leaves the client with an error and nothing stored; the retried message lands exactly once", async () => {
  const messageId = `<crash-${externalId()}@customer.test>`;
  const raw = eml(["From: Carla <carla@customer.test>", `To: ${address}`, "Subject: Crash test", `Message-ID: ${messageId}`, "", "Did this arrive?"]);

  dns.state.hold = true;
  const first = await startChild();
  const sending = smtpSend(first.port, { from: "carla@customer.test", to: address, raw }).then(
    (answer) => ({ answer, error: null }),
    (error: Error) => ({ answer: null, error }),
  );
  // The message has been received in full and is being verified (its DNS lookup hangs): no commit yet.
  await dns.queried();
  first.child.kill("SIGKILL");
  await once(first.child, "exit");
  const outcome = await sending;
  expect(outcome.answer).toBeNull();
  expect(outcome.error?.message).toMatch(/closed|ECONNRESET|Connection|socket/i);
  expect(await stored(messageId)).toEqual({ messages: 0, conversations: 0 });

  // The sender retries later against the restarted server: it lands, once, also when retried again.
  dns.state.hold = false;
  const second = await startChild();
  expect(await smtpSend(second.port, { from: "carla@customer.test", to: address, raw })).toMatch(/^250 /);
  expect(await smtpSend(second.port, { from: "carla@customer.test", to: address, raw })).toMatch(/^250 /);
  second.child.kill("SIGTERM");
  await once(second.child, "exit");
  expect(await stored(messageId)).toEqual({ messages: 1, conversations: 1 });
}, CHILD_TIMEOUT);

// The embedded database lives inside the server's process: there is no second session to hold a
// lock from, so this case runs only on the PostgreSQL server (DATABASE_URL, as CI's second pass sets it).
test.runIf(Boolean(process.env.DATABASE_URL))("on PostgreSQL, a SIGKILL while the intake transaction waits inside the database (after its first writes, before COMMIT) loses nothing and duplicates nothing", async () => {
  if (!setup.database) throw new Error("DATABASE_URL is set but no PostgreSQL test database was made");
  const messageId = `<crash-tx-${externalId()}@customer.test>`;
  const raw = eml(["From: Dora <dora@customer.test>", `To: ${address}`, "Subject: Crash in the transaction", `Message-ID: ${messageId}`, "", "Still here?"]);
  dns.state.hold = false;
  const locker = new pg.Client({ connectionString: setup.database.url });
  // Watches from outside the locker's transaction: inside one, pg_stat_activity is a snapshot taken
  // at its first read, so a poll there never sees the intake arrive later (under load it came late).
  const watcher = new pg.Client({ connectionString: setup.database.url });
  await Promise.all([locker.connect(), watcher.connect()]);
  try {
    await locker.query("BEGIN");
    // Reads go on; the message INSERT waits for this lock.
    await locker.query('LOCK TABLE "Message" IN SHARE ROW EXCLUSIVE MODE');
    const first = await startChild();
    const sending = smtpSend(first.port, { from: "dora@customer.test", to: address, raw }).then(
      (answer) => ({ answer, error: null }),
      (error: Error) => ({ answer: null, error }),
    );
    let settled: { answer: string | null; error: Error | null } | undefined;
    void sending.then((o) => (settled = o));
    for (;;) {
      const { rows } = await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`);
      if (rows[0].n > 0) break;
      // The intake must be waiting on the lock, not done: an answer before the kill fails the test.
      if (settled) throw new Error(`The server answered before it was killed: ${settled.answer ?? settled.error?.message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    expect((await sending).answer).toBeNull();
    await locker.query("ROLLBACK");
  } finally {
    await Promise.all([locker.end(), watcher.end()]);
  }
  const second = await startChild();
  expect(await smtpSend(second.port, { from: "dora@customer.test", to: address, raw })).toMatch(/^250 /);
  second.child.kill("SIGTERM");
  await once(second.child, "exit");
  expect(await stored(messageId)).toEqual({ messages: 1, conversations: 1 });
}, CHILD_TIMEOUT);
