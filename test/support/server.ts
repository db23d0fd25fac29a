import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { GraphQLClient } from "graphql-request";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { loadConfig, type Config } from "../../src/config.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server.js";
import type { Role, Seat, Tier, User } from "../../src/generated/prisma/client.js";
import { provisionAccount } from "../../src/services/accounts.js";
import { createTestDatabase } from "./database.js";

export interface TestServer {
  server: RunningServer;
  url: string;
  wsUrl: string;
  prisma: RunningServer["prisma"];
  config: Config;
  /** A signed agent token for `user` (expiresIn default 1h). */
  tokenFor(user: Pick<User, "id" | "accountId">, opts?: { expiresIn?: string | number }): Promise<string>;
  /** graphql-request client, authenticated when a token is given. */
  client(token?: string): GraphQLClient;
  /** graphql-ws client (lazy: false), authenticated when a token is given; disposed with the server. */
  ws(token?: string, options?: Partial<Parameters<typeof createClient>[0]>): Client;
  /** Disposes every client, the server and its database. */
  close(): Promise<void>;
}

/**
 * A test server's configuration: port 0 on loopback, a temp data directory, a random JWT secret,
 * no seed; a throwaway database on DATABASE_URL's PostgreSQL when it is set (else the embedded
 * one in the data directory); REDIS_URL passed through. `env` overrides any of it.
 */
export async function testServerConfig(prefix: string, env: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const database = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString("hex"),
    SEED_ON_FIRST_START: "false",
    // Tests' webhook receivers and fakes listen on loopback; test/ssrf.test.ts turns this off.
    WEBHOOK_ALLOW_PRIVATE: "127.0.0.0/8,::1/128",
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    // Quiet, also for servers started with NODE_ENV=production; TEST_LOG=1 shows every JSON line.
    LOG_LEVEL: process.env.TEST_LOG ? "debug" : "silent",
    ...env,
  });
  return { dataDir, database, config };
}

/**
 * Starts the real server on an ephemeral port with a fresh database: a throwaway database on the
 * PostgreSQL in DATABASE_URL when it is set, otherwise an embedded PGlite in a temp directory.
 */
export async function startTestServer(env: Record<string, string> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const { dataDir, database, config } = await testServerConfig("inbox-test-", env);
  const server = await startServer(config, options);
  const leftovers: Array<() => Promise<unknown> | unknown> = [];
  const wsUrl = server.url.replace(/^http/, "ws");
  return {
    server,
    url: server.url,
    wsUrl,
    prisma: server.prisma,
    config,
    tokenFor: (user, opts) => server.services.auth.sign({ typ: "agent", userId: user.id, accountId: user.accountId }, { expiresIn: opts?.expiresIn ?? "1h" }),
    client: (token) => new GraphQLClient(server.url, { headers: token ? { authorization: `Bearer ${token}` } : {} }),
    ws(token, options = {}) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        onNonLazyError: () => {},
        ...options,
      });
      leftovers.push(() => client.dispose());
      return client;
    },
    async close() {
      for (const dispose of leftovers.reverse()) await dispose();
      await server.close();
      await database?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestAccount {
  accountId: string;
  superAdmin: User;
  admin: User;
  agent: User;
  helpDeskId: string;
}

let counter = 0;

/** Provisions an account (help desk, default pipeline) with a SUPER_ADMIN, an ADMIN and an AGENT. */
export async function createTestAccount(
  prisma: RunningServer["prisma"],
  opts: { name?: string; tier?: Tier; createdAt?: Date } = {},
): Promise<TestAccount> {
  const n = ++counter;
  const tag = randomBytes(3).toString("hex");
  const { account, superAdmin, helpDesk } = await provisionAccount(prisma, {
    name: opts.name ?? `Account ${n}`,
    tier: opts.tier ?? "PROFESSIONAL",
    createdAt: opts.createdAt,
    superAdmin: { email: `owner-${tag}@example.test`, firstName: "Owner", lastName: `${n}` },
  });
  const admin = await createTestUser(prisma, account.id, { role: "ADMIN", email: `admin-${tag}@example.test`, firstName: "Admin" });
  const agent = await createTestUser(prisma, account.id, { role: "AGENT", email: `agent-${tag}@example.test`, firstName: "Agent" });
  return { accountId: account.id, superAdmin, admin, agent, helpDeskId: helpDesk.id };
}

/** Adds one user to an account. */
export function createTestUser(
  prisma: RunningServer["prisma"],
  accountId: string,
  data: { role?: Role; seat?: Seat; email?: string; firstName?: string; chatCapacity?: number | null; availability?: "AVAILABLE" | "AWAY" },
) {
  return prisma.user.create({
    data: {
      accountId,
      email: data.email ?? `user-${randomBytes(4).toString("hex")}@example.test`,
      firstName: data.firstName ?? "User",
      role: data.role ?? "AGENT",
      seat: data.seat ?? "PAID",
      chatCapacity: data.chatCapacity ?? null,
      availability: data.availability ?? "AVAILABLE",
    },
  });
}
