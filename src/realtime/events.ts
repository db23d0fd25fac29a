import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { notifyOutbox } from "./outbox-signal.js";

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
export async function recordEvents(tx: Prisma.TransactionClient, accountId: string, events: OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = await tx.$queryRaw<{ eventSeq: bigint }[]>`
    UPDATE "Account" SET "eventSeq" = "eventSeq" + ${events.length} WHERE id = ${accountId} RETURNING "eventSeq"`;
  const last = rows[0]?.eventSeq;
  if (last === undefined) throw new Error(`Account ${accountId} not found while recording events`);
  const first = last - BigInt(events.length) + 1n;
  await tx.event.createMany({
    data: events.map((e, i) => ({ accountId, seq: first + BigInt(i), type: e.type, inboxId: e.inboxId, payload: e.payload })),
  });
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
