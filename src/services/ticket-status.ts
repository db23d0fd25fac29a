import type { Prisma, PrismaClient, Ticket } from "../generated/prisma/client.js";
import { ConditionalStatusError, NotFoundError, ValidationError } from "./errors.js";

/** A Prisma client or the client of an open transaction: every function here runs inside either. */
export type Tx = Prisma.TransactionClient | PrismaClient;

export type TicketProperties = Record<string, unknown>;

/** The part of a status the rules below look at. */
export interface StatusRule {
  id: string;
  pipelineId: string;
  isClosed: boolean;
  requiredProperties: string[];
}

/** Empty strings (after trimming), null and absent values do not satisfy a required property. */
export function isMissingValue(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/** The required properties of `status` that `properties` leaves missing, in the status's order. */
export function missingRequiredProperties(status: Pick<StatusRule, "requiredProperties">, properties: TicketProperties): string[] {
  return status.requiredProperties.filter((name) => isMissingValue(properties[name]));
}

/** Reads a ticket's stored properties (a JSON object; anything else counts as empty). */
export function storedProperties(value: Prisma.JsonValue | null | undefined): TicketProperties {
  return value && typeof value === "object" && !Array.isArray(value) ? { ...(value as TicketProperties) } : {};
}

/**
 * Merges an update into a ticket's properties: given keys replace stored ones, and a `null`
 * value removes the key (so a required property can be cleared, and is then missing).
 */
export function mergeProperties(current: TicketProperties, update: TicketProperties | null | undefined): TicketProperties {
  const merged = { ...current };
  for (const [key, value] of Object.entries(update ?? {})) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/**
 * The conditional-status rule. Entering a status needs every property it requires (after the
 * update's properties are merged in). Staying in a status only fails when the update itself
 * blanks one of its required properties: a ticket that was in the status before the status
 * became conditional can still be edited. Throws ConditionalStatusError listing what is missing.
 */
export function checkConditionalStatus(opts: {
  status: StatusRule;
  entering: boolean;
  merged: TicketProperties;
  update?: TicketProperties | null;
}): void {
  const missing = missingRequiredProperties(opts.status, opts.merged);
  const refused = opts.entering ? missing : missing.filter((name) => opts.update != null && name in opts.update);
  if (refused.length > 0) throw new ConditionalStatusError(opts.status.id, refused);
}

/**
 * closedAt after a status change: entering a closed status stamps `now`, staying closed (also when
 * moving between two closed statuses) keeps the first stamp, and leaving a closed status clears it.
 */
export function closedAtFor(status: Pick<StatusRule, "isClosed">, previousClosedAt: Date | null, now = new Date()): Date | null {
  if (!status.isClosed) return null;
  return previousClosedAt ?? now;
}

/** Loads one status of the account; a missing or foreign id is a NotFoundError. */
export async function findStatus(tx: Tx, accountId: string, statusId: string): Promise<StatusRule & { name: string; position: number }> {
  const status = await tx.pipelineStatus.findFirst({
    where: { accountId, id: statusId },
    select: { id: true, pipelineId: true, isClosed: true, requiredProperties: true, name: true, position: true },
  });
  if (!status) throw new NotFoundError("PipelineStatus", statusId);
  return status;
}

/**
 * Moves a ticket into `statusId` and merges `properties` into it, inside the caller's transaction
 * (so a reply and a status change can commit or fail together). The status must belong to the
 * ticket's pipeline (else ValidationError on `field`); a conditional status without its required
 * properties throws ConditionalStatusError and writes nothing. Also bumps lastActivityAt.
 *
 * @param field input path reported when the status belongs to another pipeline (default input.ticketStatusId)
 * @returns the updated ticket
 */
export async function applyTicketStatus(
  tx: Tx,
  input: { accountId: string; ticketId: string; statusId: string; properties?: TicketProperties | null; field?: string },
): Promise<Ticket> {
  const ticket = await tx.ticket.findFirst({ where: { accountId: input.accountId, id: input.ticketId } });
  if (!ticket) throw new NotFoundError("Ticket", input.ticketId);
  const status = await findStatus(tx, input.accountId, input.statusId);
  if (status.pipelineId !== ticket.pipelineId) {
    throw ValidationError.field(input.field ?? "input.ticketStatusId", "This status belongs to another pipeline than the ticket's");
  }
  const merged = mergeProperties(storedProperties(ticket.properties), input.properties);
  checkConditionalStatus({ status, entering: status.id !== ticket.statusId, merged, update: input.properties });
  const now = new Date();
  return tx.ticket.update({
    where: { id: ticket.id },
    data: {
      statusId: status.id,
      properties: merged as Prisma.InputJsonObject,
      closedAt: closedAtFor(status, ticket.closedAt, now),
      lastActivityAt: now,
    },
  });
}
