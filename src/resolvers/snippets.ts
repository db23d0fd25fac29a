import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { CreateSnippetInput, DeleteSnippetInput, DeleteSnippetResult, RenderedSnippetType, RenderSnippetInput, SnippetKindEnum, SnippetResult, SnippetType, UpdateSnippetInput } from "../schema/snippet.js";
import { createSnippet, deleteSnippet, listSnippets, renderSnippet, updateSnippet } from "../services/snippets.js";

const inputArg = { description: "The mutation's arguments as one input object (see the input type for each field)." };

builder.queryFields((t) => ({
  snippets: t.withAuth({ agent: true }).prismaField({
    type: [SnippetType],
    description: "The caller's snippets: the account's shared ones and their own personal ones (at most 200), by shortcut; with `search`, shortcut-prefix matches first, then name matches.",
    args: {
      search: t.arg.string({ description: "A shortcut prefix (case-insensitive), or the start of a word of the name." }),
      kind: t.arg({ type: SnippetKindEnum, description: "Only snippets of this kind." }),
    },
    resolve: (query, _root, args, ctx) => listSnippets(ctx, args, query),
  }),
  renderSnippet: t.withAuth({ agent: true }).field({
    type: RenderedSnippetType,
    description:
      "A snippet's body with its tokens filled for one conversation: contact first/last/full name (missing: \"there\" for first and full name, \"\" for last), the caller's name, the account's name. Unknown tokens stay as written.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RenderSnippetPayload" } },
    args: { input: t.arg({ type: RenderSnippetInput, required: true, description: "The snippet and the conversation." }) },
    resolve: (_root, { input }, ctx) => renderSnippet(ctx, { snippetId: fromGlobalId(input.snippetId, "Snippet"), conversationId: fromGlobalId(input.conversationId, "Conversation") }),
  }),
}));

builder.mutationFields((t) => ({
  createSnippet: t.withAuth({ agent: true }).field({
    type: SnippetResult,
    description: "Adds a personal snippet, or a shared one (`shared: true`, ADMIN+).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "CreateSnippetPayload" } },
    args: { input: t.arg({ type: CreateSnippetInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ snippetId: (await createSnippet(ctx, input)).id }),
  }),
  updateSnippet: t.withAuth({ agent: true }).field({
    type: SnippetResult,
    description: "Changes a snippet: one's own personal snippet, or (ADMIN+) a shared one.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateSnippetPayload" } },
    args: { input: t.arg({ type: UpdateSnippetInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => {
      const { snippetId, ...rest } = input;
      const changes = Object.fromEntries(Object.entries(rest).filter(([k, v]) => v !== null || k === "url"));
      return { snippetId: (await updateSnippet(ctx, fromGlobalId(snippetId, "Snippet"), changes)).id };
    },
  }),
  deleteSnippet: t.withAuth({ agent: true }).field({
    type: DeleteSnippetResult,
    description: "Deletes a snippet: one's own personal snippet, or (ADMIN+) a shared one.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "DeleteSnippetPayload" } },
    args: { input: t.arg({ type: DeleteSnippetInput, required: true, ...inputArg }) },
    resolve: async (_root, { input }, ctx) => ({ snippetId: await deleteSnippet(ctx, fromGlobalId(input.snippetId, "Snippet")) }),
  }),
}));
