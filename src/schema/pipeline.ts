import type { Pipeline } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { callerAccountId } from "./scope.js";

export const PipelineStatusType = builder.prismaNode("PipelineStatus", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "One step of a pipeline. A conditional status requires ticket properties to enter it.",
  fields: (t) => ({
    name: t.exposeString("name"),
    position: t.exposeInt("position"),
    isClosed: t.exposeBoolean("isClosed"),
    requiredProperties: t.exposeStringList("requiredProperties"),
    isConditional: t.boolean({ select: { requiredProperties: true }, resolve: (s) => s.requiredProperties.length > 0 }),
    pipeline: t.relation("pipeline"),
  }),
});

export const PipelineType = builder.prismaNode("Pipeline", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "An ordered list of ticket statuses.",
  fields: (t) => ({
    name: t.exposeString("name"),
    isDefault: t.exposeBoolean("isDefault"),
    position: t.exposeInt("position"),
    statuses: t.relation("statuses", { query: { orderBy: { position: "asc" } } }),
  }),
});

export const PipelineStatusInput = builder.inputType("PipelineStatusInput", {
  description: "One status of a pipeline, in list order.",
  fields: (t) => ({
    id: t.id({ description: "An existing status of this pipeline to keep; omit to add a new status." }),
    name: t.string({ required: true, description: "Unique within the pipeline." }),
    isClosed: t.boolean({ description: "Tickets in a closed status count as closed (closedAt is set). Default false." }),
    requiredProperties: t.stringList({ description: "Ticket properties needed to enter this status (makes it conditional)." }),
  }),
});

export const CreatePipelineInput = builder.inputType("CreatePipelineInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    statuses: t.field({ type: [PipelineStatusInput], required: true, description: "At least one; the list order is the pipeline's order." }),
  }),
});

export const UpdatePipelineInput = builder.inputType("UpdatePipelineInput", {
  fields: (t) => ({
    pipelineId: t.id({ required: true }),
    name: t.string(),
    statuses: t.field({
      type: [PipelineStatusInput],
      required: true,
      description: "The full new list, in order. Existing statuses left out are deleted, which is refused while tickets use them.",
    }),
  }),
});

export const DeletePipelineInput = builder.inputType("DeletePipelineInput", {
  fields: (t) => ({ pipelineId: t.id({ required: true }) }),
});

export const PipelineResult = builder.objectRef<{ pipeline: Pipeline }>("PipelineResult").implement({
  fields: (t) => ({ pipeline: t.field({ type: PipelineType, resolve: (r) => r.pipeline }) }),
});

export const DeletePipelineResult = builder.objectRef<{ deletedPipelineId: string }>("DeletePipelineResult").implement({
  fields: (t) => ({ deletedPipelineId: t.id({ resolve: (r) => toGlobalId("Pipeline", r.deletedPipelineId) }) }),
});
