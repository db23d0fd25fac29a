import { randomBytes } from "node:crypto";
import type { ChannelType, Prisma, PrismaClient, RoutingTarget, ThreadingModel } from "../../src/generated/prisma/client.js";
import type { Auth } from "../../src/auth.js";

/** A partner with one channel app, and a partner token for it. Rows are written directly (channel management is another module). */
export async function createPartnerApp(
  prisma: PrismaClient,
  auth: Auth,
  opts: { capabilities?: Record<string, unknown>; threadingModel?: ThreadingModel; webhookUrl?: string; webhookSecret?: string } = {},
) {
  const partner = await prisma.partner.create({ data: { name: `Partner ${randomBytes(3).toString("hex")}` } });
  const app = await prisma.channelApp.create({
    data: {
      partnerId: partner.id,
      name: "Acme Chat",
      capabilities: (opts.capabilities ?? {}) as Prisma.InputJsonValue,
      threadingModel: opts.threadingModel ?? "THREAD_KEY",
      webhookUrl: opts.webhookUrl ?? "http://127.0.0.1:9/unused",
      webhookSecret: opts.webhookSecret ?? randomBytes(16).toString("hex"),
    },
  });
  const token = await auth.sign({ typ: "partner", partnerId: partner.id }, { expiresIn: "1h" });
  return { partner, app, token };
}

/** An inbox of the account with these direct members. */
export function createInbox(prisma: PrismaClient, accountId: string, opts: { name?: string; userIds?: string[] } = {}) {
  const tag = randomBytes(4).toString("hex");
  return prisma.inbox.create({
    data: { accountId, name: opts.name ?? `Inbox ${tag}`, fallbackEmail: `inbox-${tag}@fixtures.test`, users: { create: (opts.userIds ?? []).map((userId) => ({ userId })) } },
  });
}

export interface ChannelFixture {
  accountId: string;
  inboxId: string;
  type?: ChannelType;
  channelAppId?: string;
  status?: "ON" | "OFF";
  deleted?: boolean;
  autoAssign?: boolean;
  routingTarget?: RoutingTarget;
  onlyAvailable?: boolean;
  routingUserIds?: string[];
  routingTeamIds?: string[];
  emailAddress?: string;
}

/** A channel row (CUSTOM when channelAppId is given) with its routing block. */
export function createChannel(prisma: PrismaClient, f: ChannelFixture) {
  return prisma.channel.create({
    data: {
      accountId: f.accountId,
      inboxId: f.inboxId,
      type: f.type ?? (f.channelAppId ? "CUSTOM" : "CHAT"),
      name: `Channel ${randomBytes(3).toString("hex")}`,
      status: f.status ?? "ON",
      deletedAt: f.deleted ? new Date() : null,
      channelAppId: f.channelAppId ?? null,
      emailAddress: f.emailAddress ?? null,
      autoAssign: f.autoAssign ?? false,
      routingTarget: f.routingTarget ?? "SPECIFIC",
      onlyAvailable: f.onlyAvailable ?? true,
      routingUsers: { create: (f.routingUserIds ?? []).map((userId) => ({ userId })) },
      routingTeams: { create: (f.routingTeamIds ?? []).map((teamId) => ({ teamId })) },
    },
  });
}

/** A team with members. */
export function createTeam(prisma: PrismaClient, accountId: string, userIds: string[]) {
  return prisma.team.create({ data: { accountId, name: `Team ${randomBytes(3).toString("hex")}`, members: { create: userIds.map((userId) => ({ userId })) } } });
}

let seq = 0;
/** A unique external id for publishes. */
export const externalId = (prefix = "ext") => `${prefix}-${Date.now().toString(36)}-${++seq}-${randomBytes(2).toString("hex")}`;
