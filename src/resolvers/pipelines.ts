import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import {
  CreatePipelineInput,
  DeletePipelineInput,
  DeletePipelineResult,
  PipelineResult,
  PipelineType,
  UpdatePipelineInput,
} from "../schema/pipeline.js";
import { createPipeline, deletePipeline, listPipelines, updatePipeline, type PipelineStatusInput } from "../services/pipelines.js";

/** Decodes the optional ids of a status list (a foreign or malformed id is a NotFoundError). */
function statusInputs(statuses: ReadonlyArray<{ id?: string | null; name: string; isClosed?: boolean | null; requiredProperties?: string[] | null }>): PipelineStatusInput[] {
  return statuses.map((s) => ({ ...s, id: s.id ? fromGlobalId(s.id, "PipelineStatus") : null }));
}

builder.queryFields((t) => ({
  pipelines: t.withAuth({ agent: true }).prismaField({
    type: [PipelineType],
    description: "The account's ticket pipelines in display order (the default one first).",
    resolve: (query, _root, _args, ctx) => listPipelines(ctx, query),
  }),
}));

builder.mutationFields((t) => ({
  createPipeline: t.withAuth({ agent: true }).field({
    type: PipelineResult,
    description: "Adds a pipeline with its ordered statuses (ADMIN+).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreatePipelinePayload" } },
    args: { input: t.arg({ type: CreatePipelineInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ pipeline: await createPipeline(ctx, { name: input.name, statuses: statusInputs(input.statuses) }) }),
  }),
  updatePipeline: t.withAuth({ agent: true }).field({
    type: PipelineResult,
    description: "Renames a pipeline and replaces its ordered statuses (ADMIN+).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdatePipelinePayload" } },
    args: { input: t.arg({ type: UpdatePipelineInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      pipeline: await updatePipeline(ctx, { pipelineId: fromGlobalId(input.pipelineId, "Pipeline"), name: input.name, statuses: statusInputs(input.statuses) }),
    }),
  }),
  deletePipeline: t.withAuth({ agent: true }).field({
    type: DeletePipelineResult,
    description: "Deletes a pipeline without tickets (ADMIN+); the default pipeline stays.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "DeletePipelinePayload" } },
    args: { input: t.arg({ type: DeletePipelineInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ deletedPipelineId: await deletePipeline(ctx, fromGlobalId(input.pipelineId, "Pipeline")) }),
  }),
}));
