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
    name: t.exposeString("name", { description: "Display name, unique within the pipeline." }),
    position: t.exposeInt("position", { description: "0-based place in the pipeline's order." }),
    isClosed: t.exposeBoolean("isClosed", { description: "Tickets in this status count as closed." }),
    requiredProperties: t.exposeStringList("requiredProperties", { description: "Ticket properties that must be set to move a ticket into this status; empty for an unconditional status." }),
    isConditional: t.boolean({ description: "Whether requiredProperties is not empty.", select: { requiredProperties: true }, resolve: (s) => s.requiredProperties.length > 0 }),
    pipeline: t.relation("pipeline", { description: "The pipeline this status belongs to." }),
  }),
});

export const PipelineType = builder.prismaNode("Pipeline", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx) }),
  description: "An ordered list of ticket statuses.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Display name." }),
    isDefault: t.exposeBoolean("isDefault", { description: "The account's default pipeline: new tickets land here unless told otherwise; it cannot be deleted." }),
    position: t.exposeInt("position", { description: "Place in the account's list of pipelines." }),
    statuses: t.relation("statuses", { description: "Its statuses, in order.", query: { orderBy: { position: "asc" } } }),
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
  description: "A new pipeline (admins only).",
  fields: (t) => ({
    name: t.string({ required: true, description: "Display name." }),
    statuses: t.field({ type: [PipelineStatusInput], required: true, description: "At least one; the list order is the pipeline's order." }),
  }),
});

export const UpdatePipelineInput = builder.inputType("UpdatePipelineInput", {
  description: "Renames a pipeline and/or replaces its statuses (admins only).",
  fields: (t) => ({
    pipelineId: t.id({ required: true, description: "The pipeline to change." }),
    name: t.string({ description: "New name; omit to keep it." }),
    statuses: t.field({
      type: [PipelineStatusInput],
      required: true,
      description: "The full new list, in order. Existing statuses left out are deleted, which is refused while tickets use them.",
    }),
  }),
});

export const DeletePipelineInput = builder.inputType("DeletePipelineInput", {
  description: "Deletes a pipeline and its statuses (admins only). Refused for the default pipeline, one with tickets, and one named in a channel's ticket defaults.",
  fields: (t) => ({ pipelineId: t.id({ required: true, description: "The pipeline to delete." }) }),
});

export const PipelineResult = builder.objectRef<{ pipeline: Pipeline }>("PipelineResult").implement({
  description: "A pipeline mutation succeeded.",
  fields: (t) => ({ pipeline: t.field({ type: PipelineType, description: "The pipeline as it is now.", resolve: (r) => r.pipeline }) }),
});

export const DeletePipelineResult = builder.objectRef<{ deletedPipelineId: string }>("DeletePipelineResult").implement({
  description: "The pipeline was deleted.",
  fields: (t) => ({ deletedPipelineId: t.id({ description: "Global id of the deleted pipeline (remove it from client caches).", resolve: (r) => toGlobalId("Pipeline", r.deletedPipelineId) }) }),
});
