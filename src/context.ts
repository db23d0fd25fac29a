import { Prisma, type PrismaClient, type User } from "./generated/prisma/client.js";
import { sqlQuery } from "./db/sql.js";
import type { Auth } from "./auth.js";
import type { Config } from "./config.js";
import type { Logger } from "./log.js";
import type { AppPubSub } from "./realtime/pubsub.js";
import { UnauthenticatedError } from "./services/errors.js";

/** What every request or socket shares, whoever the caller is. */
export interface Services {
  config: Config;
  prisma: PrismaClient;
  pubsub: AppPubSub;
  auth: Auth;
  /** This server's JSON logger (src/log.ts). */
  logger: Logger;
}

interface Base extends Services {
  requestId: string;
}

export interface AnonymousContext extends Base {
  kind: "anonymous";
  /** Why the presented token was refused, if one was presented. */
  authError?: string;
}
export interface AgentContext extends Base {
  kind: "agent";
  accountId: string;
  user: User;
  tokenExpiresAt?: number;
  /**
   * Set only on a shared subscription execution's context (src/realtime/subscriber-scope.ts):
   * the inboxes its group can see, which `visibleInboxWhere` then filters by.
   */
  visibleInboxIds?: readonly string[];
}
export interface PartnerContext extends Base {
  kind: "partner";
  partnerId: string;
  tokenExpiresAt?: number;
}
export interface VisitorContext extends Base {
  kind: "visitor";
  accountId: string;
  conversationId: string;
  channelId: string;
  tokenExpiresAt?: number;
}

export type Context = AnonymousContext | AgentContext | PartnerContext | VisitorContext;

/** Reads "Bearer <token>" (case-insensitive scheme); undefined when absent. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : header.trim() ? header.trim() : undefined;
}

/**
 * The one context factory for HTTP and WebSocket alike. A missing token gives an anonymous
 * context; a bad one gives an anonymous context that remembers why (fields that need a caller
 * then answer with that reason). Infrastructure failures are thrown.
 */
export async function createContext(services: Services, input: { authorization?: unknown; requestId: string }): Promise<Context> {
  const base: Base = { ...services, requestId: input.requestId };
  const token = bearerToken(input.authorization);
  if (!token) return { ...base, kind: "anonymous" };
  let claims;
  try {
    claims = await services.auth.verify(token);
  } catch (err) {
    if (err instanceof UnauthenticatedError) return { ...base, kind: "anonymous", authError: err.message };
    throw err;
  }
  switch (claims.typ) {
    case "agent": {
      // Every agent request reads its user: through `pg`, not Prisma (src/db/sql.ts).
      // Every column, as Prisma would return the row (pg reads enums as their text).
      const [user] = await sqlQuery<User>(services.prisma, Prisma.sql`
        SELECT * FROM "User" WHERE id = ${claims.userId} AND "accountId" = ${claims.accountId} AND "removedAt" IS NULL`);
      if (!user) return { ...base, kind: "anonymous", authError: "This user no longer exists" };
      return { ...base, kind: "agent", accountId: user.accountId, user, tokenExpiresAt: claims.expiresAt };
    }
    case "partner": {
      const [partner] = await sqlQuery<{ id: string }>(services.prisma, Prisma.sql`SELECT id FROM "Partner" WHERE id = ${claims.partnerId}`);
      if (!partner) return { ...base, kind: "anonymous", authError: "This partner no longer exists" };
      return { ...base, kind: "partner", partnerId: partner.id, tokenExpiresAt: claims.expiresAt };
    }
    case "visitor":
      return { ...base, kind: "visitor", accountId: claims.accountId, conversationId: claims.conversationId, channelId: claims.channelId, tokenExpiresAt: claims.expiresAt };
  }
}
