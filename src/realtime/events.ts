import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { notifyOutbox } from "./outbox-signal.js";
import { deferUntilCommit, sqlTransaction, type SqlTx, type TransactionOptions } from "../db/sql.js";

/** One change to record in the outbox: ids only, subscribers reload what they need. */
export interface OutboxEvent {
  type: "message.added" | "conversation.created" | "conversation.updated" | (string & {});
  inboxId: string | null;
  payload: Record<string, string | null>;
}

/**
 * Writes events to the outbox (`Event`) inside the caller's transaction, so an event exists
 * exactly when the change it describes commits. Sequence numbers come from `Account.eventSeq`,
 * bumped by the same transaction: the row lock makes cursors follow commit order per account.
 * Publishing the rows to subscribers is the real-time dispatcher's job, not this module's.
 */
export async function recordEvents(tx: SqlTx, accountId: string, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  // In a `pg` transaction the statement goes with the COMMIT, so the account row's lock is held
  // for no round trip (intakes of one account queue on it). There, a missing account must make
  // the statement fail: no row recorded divides by zero.
  if (deferUntilCommit(tx, Prisma.sql`WITH ${eventsCte(accountId, events)} SELECT 1 / count(*)::int FROM recorded_events`)) return;
  const inserted = await tx.$executeRaw`WITH ${eventsCte(accountId, events)} SELECT 1 FROM recorded_events`;
  if (inserted === 0) throw new Error(`Account ${accountId} not found while recording events`);
}

/**
 * recordEvents as part of a bigger statement: two CTEs for its WITH list (`bumped_seq`,
 * `recorded_events`), so a writer can record its events in the statement that makes the change.
 * The UPDATE takes the Account row lock, held until commit.
 */
export function eventsCte(accountId: string, events: OutboxEvent[]): Prisma.Sql {
  return Prisma.sql`bumped_seq AS (UPDATE "Account" SET "eventSeq" = "eventSeq" + ${events.length} WHERE id = ${accountId} RETURNING "eventSeq"),
    recorded_events AS (
      INSERT INTO "Event" ("accountId", seq, type, "inboxId", payload, "createdAt")
      SELECT ${accountId}, bumped_seq."eventSeq" - ${events.length} + e.n, e.type, e."inboxId", e.payload, ${new Date()}
        FROM bumped_seq, unnest(${events.map((e) => e.type)}::text[], ${events.map((e) => e.inboxId)}::text[], ${events.map((e) => JSON.stringify(e.payload))}::jsonb[])
             WITH ORDINALITY AS e(type, "inboxId", payload, n)
      RETURNING seq)`;
}

/**
 * Runs `fn` in one transaction and, once it has committed, wakes this process's event dispatcher
 * so the events it recorded reach subscribers at once (the dispatcher's poll is the fallback).
 */
export async function transactionWithEvents<T>(prisma: PrismaClient, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  // Under bursts, writes queue for a connection rather than fail after Prisma's 2 s default.
  const result = await prisma.$transaction(fn, { maxWait: 15_000, timeout: 30_000 });
  notifyOutbox();
  return result;
}

/** transactionWithEvents for raw-SQL writers: one `pg` transaction (see sqlTransaction), then the dispatcher is woken. */
export async function sqlTransactionWithEvents<T>(prisma: PrismaClient, fn: (tx: SqlTx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
  const result = await sqlTransaction(prisma, fn, opts);
  notifyOutbox();
  return result;
}
