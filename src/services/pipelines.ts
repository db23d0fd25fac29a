import { z } from "zod";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { requireRole } from "./access.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { isMissingRow } from "./prisma-errors.js";
import { storable } from "./storable.js";
import { name as plainName, parseInput } from "./validation.js";

const name = (max?: number) => storable(plainName(max));

type Tx = Prisma.TransactionClient | PrismaClient;

/** The statuses every new account starts with; Closed is conditional on a resolution. */
export const DEFAULT_PIPELINE = {
  name: "Support pipeline",
  statuses: [
    { name: "New", isClosed: false, requiredProperties: [] as string[] },
    { name: "Waiting on contact", isClosed: false, requiredProperties: [] as string[] },
    { name: "Waiting on us", isClosed: false, requiredProperties: [] as string[] },
    { name: "Closed", isClosed: true, requiredProperties: ["resolution"] },
  ],
};

/** Creates the default ticket pipeline of a new account (inside the caller's transaction). */
export async function createDefaultPipeline(tx: Tx, accountId: string) {
  return tx.pipeline.create({
    data: {
      accountId,
      name: DEFAULT_PIPELINE.name,
      isDefault: true,
      position: 0,
      statuses: { create: DEFAULT_PIPELINE.statuses.map((s, position) => ({ ...s, position })) },
    },
  });
}

type PipelineQuery = Omit<Prisma.PipelineFindManyArgs, "where" | "orderBy">;

/** The account's pipelines in display order; `query` is the selection plugin-prisma plans. */
export function listPipelines(ctx: AgentContext, query: PipelineQuery = {}) {
  return ctx.prisma.pipeline.findMany({ ...query, where: { accountId: ctx.accountId }, orderBy: [{ position: "asc" }, { createdAt: "asc" }] });
}

/**
 * The account's default pipeline with its statuses in order (the first one is where new tickets
 * start). Works on a transaction client so intake can call it mid-transaction.
 */
export async function findDefaultPipeline(tx: Tx, accountId: string) {
  const pipeline = await tx.pipeline.findFirst({
    where: { accountId, isDefault: true },
    include: { statuses: { orderBy: { position: "asc" } } },
  });
  if (!pipeline) throw new NotFoundError("Pipeline");
  return pipeline;
}

const propertyName = storable(z.string().trim().min(1, "Must not be empty").max(100, "At most 100 characters"));

const statusSchema = z.object({
  id: z.string().nullish(),
  name: name(80),
  isClosed: z.boolean().nullish().transform((v) => v ?? false),
  requiredProperties: z
    .array(propertyName)
    .max(50)
    .nullish()
    .transform((v) => [...new Set(v ?? [])]),
});

/** Statuses are an ordered list: at least one, names unique (case-insensitive) within the pipeline. */
const statusesSchema = z
  .array(statusSchema)
  .min(1, "A pipeline needs at least one status")
  .max(50, "At most 50 statuses")
  .superRefine((statuses, check) => {
    const seenNames = new Set<string>();
    const seenIds = new Set<string>();
    statuses.forEach((status, i) => {
      const key = status.name.toLowerCase();
      if (seenNames.has(key)) check.addIssue({ code: "custom", path: [i, "name"], message: "Status names must be unique within a pipeline" });
      seenNames.add(key);
      if (status.id) {
        if (seenIds.has(status.id)) check.addIssue({ code: "custom", path: [i, "id"], message: "This status is listed twice" });
        seenIds.add(status.id);
      }
    });
  });

export interface PipelineStatusInput {
  /** An existing status of the pipeline to keep (update), or absent for a new one. */
  id?: string | null;
  name: string;
  isClosed?: boolean | null;
  requiredProperties?: string[] | null;
}

async function checkNameFree(ctx: AgentContext, pipelineName: string, exceptId?: string) {
  const clash = await ctx.prisma.pipeline.findFirst({
    where: { accountId: ctx.accountId, name: { equals: pipelineName, mode: "insensitive" }, ...(exceptId ? { id: { not: exceptId } } : {}) },
    select: { id: true },
  });
  if (clash) throw ValidationError.field("input.name", "A pipeline with this name already exists");
}

/** Creates a pipeline (ADMIN+) placed after the existing ones; the statuses keep the given order. */
export async function createPipeline(ctx: AgentContext, input: { name: string; statuses: PipelineStatusInput[] }) {
  requireRole(ctx, "ADMIN", "manage pipelines");
  const data = parseInput(z.object({ name: name(), statuses: statusesSchema }), input);
  if (data.statuses.some((s) => s.id)) throw ValidationError.field("input.statuses", "New pipelines take statuses without ids");
  await checkNameFree(ctx, data.name);
  const last = await ctx.prisma.pipeline.findFirst({ where: { accountId: ctx.accountId }, orderBy: { position: "desc" }, select: { position: true } });
  return ctx.prisma.pipeline.create({
    data: {
      accountId: ctx.accountId,
      name: data.name,
      position: (last?.position ?? -1) + 1,
      statuses: {
        create: data.statuses.map((s, position) => ({ name: s.name, isClosed: s.isClosed, requiredProperties: s.requiredProperties, position })),
      },
    },
  });
}

/**
 * Renames a pipeline and replaces its statuses (ADMIN+). The list order is the new order; listed
 * ids update those statuses, entries without an id are created, and statuses left out are deleted,
 * which is refused (ValidationError naming the status) while a ticket or a channel's ticket
 * defaults still use one. When a status turns closed or open, its tickets' closedAt follows.
 */
export async function updatePipeline(ctx: AgentContext, input: { pipelineId: string; name?: string | null; statuses: PipelineStatusInput[] }) {
  requireRole(ctx, "ADMIN", "manage pipelines");
  const data = parseInput(z.object({ name: name().nullish(), statuses: statusesSchema }), { name: input.name, statuses: input.statuses });
  const pipeline = await ctx.prisma.pipeline.findFirst({ where: { accountId: ctx.accountId, id: input.pipelineId }, include: { statuses: true } });
  if (!pipeline) throw new NotFoundError("Pipeline", input.pipelineId);
  if (data.name) await checkNameFree(ctx, data.name, pipeline.id);

  const current = new Map(pipeline.statuses.map((s) => [s.id, s]));
  for (const [i, status] of data.statuses.entries()) {
    if (!status.id || current.has(status.id)) continue;
    // Another account's status looks missing; another pipeline's is a mistake in the input.
    const elsewhere = await ctx.prisma.pipelineStatus.findFirst({ where: { accountId: ctx.accountId, id: status.id }, select: { id: true } });
    if (!elsewhere) throw new NotFoundError("PipelineStatus", status.id);
    throw ValidationError.field(["input", "statuses", String(i), "id"], "This status belongs to another pipeline");
  }

  const kept = new Set(data.statuses.flatMap((s) => (s.id ? [s.id] : [])));
  const removed = pipeline.statuses.filter((s) => !kept.has(s.id));
  await checkRemovable(ctx, removed);

  const now = new Date();
  await inUseGuard(ctx.prisma.$transaction(async (tx) => {
    if (removed.length > 0) await tx.pipelineStatus.deleteMany({ where: { accountId: ctx.accountId, id: { in: removed.map((s) => s.id) } } });
    for (const [position, status] of data.statuses.entries()) {
      const fields = { name: status.name, isClosed: status.isClosed, requiredProperties: status.requiredProperties, position };
      if (!status.id) {
        await tx.pipelineStatus.create({ data: { ...fields, accountId: ctx.accountId, pipelineId: pipeline.id } });
        continue;
      }
      await tx.pipelineStatus.update({ where: { id: status.id }, data: fields });
      const before = current.get(status.id)!;
      if (before.isClosed !== status.isClosed) {
        // Keep closedAt meaning "is in a closed status" for the tickets already there.
        await tx.ticket.updateMany({
          where: { accountId: ctx.accountId, statusId: status.id },
          data: { closedAt: status.isClosed ? now : null },
        });
      }
    }
    if (data.name) await tx.pipeline.update({ where: { id: pipeline.id }, data: { name: data.name } });
  }));
  return ctx.prisma.pipeline.findFirstOrThrow({ where: { id: pipeline.id } });
}

/** Refuses to delete statuses that tickets or channels' ticket defaults still point at. */
async function checkRemovable(ctx: AgentContext, removed: Array<{ id: string; name: string }>) {
  if (removed.length === 0) return;
  const ids = removed.map((s) => s.id);
  const [byTicket, byChannel] = await Promise.all([
    ctx.prisma.ticket.groupBy({ by: ["statusId"], where: { accountId: ctx.accountId, statusId: { in: ids } }, _count: { _all: true } }),
    ctx.prisma.channel.findMany({ where: { accountId: ctx.accountId, ticketStatusId: { in: ids } }, select: { ticketStatusId: true, name: true } }),
  ]);
  const errors = removed.flatMap((status) => {
    const tickets = byTicket.find((g) => g.statusId === status.id)?._count._all ?? 0;
    const channel = byChannel.find((c) => c.ticketStatusId === status.id);
    if (tickets > 0) return [{ path: ["input", "statuses"], message: `Status "${status.name}" is used by ${tickets} ticket(s); move them first` }];
    if (channel) return [{ path: ["input", "statuses"], message: `Status "${status.name}" is the ticket default of channel "${channel.name}"` }];
    return [];
  });
  if (errors.length > 0) throw new ValidationError(errors);
}

/**
 * Deletes a pipeline and its statuses (ADMIN+). The default pipeline, a pipeline with tickets and
 * one named in a channel's ticket defaults cannot be deleted (ValidationError).
 * @returns the id of the deleted pipeline
 */
export async function deletePipeline(ctx: AgentContext, pipelineId: string): Promise<string> {
  requireRole(ctx, "ADMIN", "manage pipelines");
  const pipeline = await ctx.prisma.pipeline.findFirst({ where: { accountId: ctx.accountId, id: pipelineId } });
  if (!pipeline) throw new NotFoundError("Pipeline", pipelineId);
  if (pipeline.isDefault) throw ValidationError.field("input.pipelineId", "The default pipeline cannot be deleted");
  const [tickets, channels] = await Promise.all([
    ctx.prisma.ticket.count({ where: { accountId: ctx.accountId, pipelineId } }),
    ctx.prisma.channel.count({ where: { accountId: ctx.accountId, OR: [{ ticketPipelineId: pipelineId }, { ticketStatus: { pipelineId } }] } }),
  ]);
  if (tickets > 0) throw ValidationError.field("input.pipelineId", `This pipeline has ${tickets} ticket(s)`);
  if (channels > 0) throw ValidationError.field("input.pipelineId", "A channel creates its tickets in this pipeline");
  await inUseGuard(ctx.prisma.pipeline.delete({ where: { id: pipeline.id } }));
  return pipeline.id;
}

/** A ticket or channel that started using a status after the checks above trips the foreign key. */
async function inUseGuard<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isMissingRow(err)) throw ValidationError.field("input.statuses", "A status being removed was just put in use; try again");
    throw err;
  }
}
