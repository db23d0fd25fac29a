import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { snippetNodeWhere, type RenderedSnippet } from "../services/snippets.js";
import { callerAccountId } from "./scope.js";

/** Snippets: canned replies and insertable links, shared by the account or personal. */

export const SnippetKindEnum = builder.enumType("SnippetKind", {
  description: "What a snippet inserts.",
  values: {
    TEXT: { description: "A canned reply: rich text with personalization tokens." },
    DOCUMENT: { description: "A link to a document (`url`), with optional text." },
    MEETING_LINK: { description: "A meeting-booking link (`url`), with optional text." },
    KNOWLEDGE_BASE: { description: "A knowledge-base article link (`url`), with optional text." },
  } as const,
});

export const SnippetType = builder.prismaNode("Snippet", {
  id: { field: "id" },
  nullable: true,
  findUnique: (id, ctx) => (ctx.kind === "agent" ? snippetNodeWhere(ctx, id) : { id, accountId: callerAccountId(ctx) }),
  description:
    "A canned reply or insertable link. Shared snippets (owner null) are seen by the whole account and managed by admins; personal ones are seen and edited by their owner only.",
  fields: (t) => ({
    kind: t.expose("kind", { type: SnippetKindEnum, description: "TEXT, or the kind of link." }),
    name: t.exposeString("name", { description: "What the editor's picker shows." }),
    shortcut: t.exposeString("shortcut", { description: "Lower-case key typed in the editor to find it (unique among shared snippets, and among each user's own)." }),
    body: t.exposeString("body", {
      description:
        "Sanitized rich text with tokens: {{contact.firstName}}, {{contact.lastName}}, {{contact.fullName}}, {{agent.name}}, {{company.name}} (renderSnippet fills them). \"\" for a link without text.",
    }),
    url: t.exposeString("url", { nullable: true, description: "The link of DOCUMENT, MEETING_LINK and KNOWLEDGE_BASE snippets; null for TEXT." }),
    shared: t.boolean({ description: "True: the account's shared snippet; false: the caller's personal one.", select: { ownerId: true }, resolve: (s) => s.ownerId === null }),
    owner: t.relation("owner", { nullable: true, description: "The user a personal snippet belongs to (null for shared)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it was last changed." }),
  }),
});

export const RenderedSnippetType = builder.objectRef<RenderedSnippet>("RenderedSnippet").implement({
  description: "A snippet's body for one conversation, its tokens filled, ready to insert in the reply editor.",
  fields: (t) => ({
    snippetId: t.id({ description: "The snippet (global id).", resolve: (r) => toGlobalId("Snippet", r.snippetId) }),
    kind: t.expose("kind", { type: SnippetKindEnum, description: "The snippet's kind." }),
    richText: t.exposeString("richText", { description: "The body as sanitized rich text, tokens filled with HTML-escaped values (\"\" for a link without text)." }),
    text: t.exposeString("text", { description: "The same body as plain text." }),
    url: t.exposeString("url", { nullable: true, description: "The link to insert (link kinds), else null." }),
  }),
});

const fieldDocs = {
  kind: "TEXT (default on create) or a link kind.",
  name: "Shown in the picker; 1-120 characters.",
  shortcut: "1-40 letters, digits, '.', '_' or '-' (stored lower-case).",
  body: "Rich text (sanitized with the message allowlist), with tokens. Required for TEXT.",
  url: "http(s) URL, required for link kinds and refused for TEXT; checked like every URL the server is given.",
};

export const CreateSnippetInput = builder.inputType("CreateSnippetInput", {
  description: "A new snippet.",
  fields: (t) => ({
    kind: t.field({ type: SnippetKindEnum, description: fieldDocs.kind }),
    name: t.string({ required: true, description: fieldDocs.name }),
    shortcut: t.string({ required: true, description: fieldDocs.shortcut }),
    body: t.string({ description: fieldDocs.body }),
    url: t.string({ description: fieldDocs.url }),
    shared: t.boolean({ description: "True: shared with the whole account (ADMIN+); default false: personal to the caller." }),
  }),
});

export const UpdateSnippetInput = builder.inputType("UpdateSnippetInput", {
  description: "Changes to a snippet; omitted fields keep their value.",
  fields: (t) => ({
    snippetId: t.id({ required: true, description: "A snippet the caller may manage (own, or shared for admins)." }),
    kind: t.field({ type: SnippetKindEnum, description: fieldDocs.kind }),
    name: t.string({ description: fieldDocs.name }),
    shortcut: t.string({ description: fieldDocs.shortcut }),
    body: t.string({ description: fieldDocs.body }),
    url: t.string({ description: `${fieldDocs.url} null clears it (when changing to TEXT).` }),
  }),
});

export const DeleteSnippetInput = builder.inputType("DeleteSnippetInput", {
  description: "The snippet to delete.",
  fields: (t) => ({ snippetId: t.id({ required: true, description: "A snippet the caller may manage." }) }),
});

export const RenderSnippetInput = builder.inputType("RenderSnippetInput", {
  description: "Which snippet to fill for which conversation.",
  fields: (t) => ({
    snippetId: t.id({ required: true, description: "A snippet the caller can see." }),
    conversationId: t.id({ required: true, description: "A conversation the caller can see: its contact fills the contact tokens." }),
  }),
});

export const SnippetResult = builder.objectRef<{ snippetId: string }>("SnippetResult").implement({
  description: "The snippet created or updated.",
  fields: (t) => ({
    snippet: t.prismaField({
      type: "Snippet",
      description: "The snippet as stored.",
      resolve: (query, r, _args, ctx) => ctx.prisma.snippet.findUniqueOrThrow({ ...query, where: { id: r.snippetId } }),
    }),
  }),
});

export const DeleteSnippetResult = builder.objectRef<{ snippetId: string }>("DeleteSnippetResult").implement({
  description: "The snippet was deleted.",
  fields: (t) => ({ deletedSnippetId: t.id({ description: "Its global id.", resolve: (r) => toGlobalId("Snippet", r.snippetId) }) }),
});
