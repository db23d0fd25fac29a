import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import StorableTextPlugin from "./storable-text-plugin.js";
import { DateTimeResolver, JSONObjectResolver } from "graphql-scalars";
import type PrismaTypes from "../generated/pothos-types.js";
import { getDatamodel } from "../generated/pothos-types.js";
import type { AgentContext, Context, PartnerContext, VisitorContext } from "../context.js";
import { UnauthenticatedError, ForbiddenError } from "../services/errors.js";
import { partnerAccessPlugin } from "./partner-access.js";

/** Plugins, scalars and auth scopes only: no type definitions live here. */
export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { agent: boolean; admin: boolean; partner: boolean; visitor: boolean };
  AuthContexts: { agent: AgentContext; admin: AgentContext; partner: PartnerContext; visitor: VisitorContext };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
    ID: { Input: string; Output: string | number | bigint };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // Errors first: its wrapper is the outermost, so a failed auth check on a field whose payload
  // union has ForbiddenError comes back as that union member, not as a top-level error.
  // StorableText last: it refuses NUL/unpaired surrogates in arguments inside the union wrapper.
  // PartnerAccess inside both: a partner token reads only the fields listed in partner-access.ts,
  // of its own apps' rows; everything else answers FORBIDDEN.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, partnerAccessPlugin, PrismaPlugin, RelayPlugin, StorableTextPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      agent: ctx.kind === "agent",
      admin: ctx.kind === "agent" && ctx.user.role !== "AGENT",
      partner: ctx.kind === "partner",
      visitor: ctx.kind === "visitor",
    }),
    // A caller without a valid token gets the typed unauthenticated error (with the reason its
    // token was refused); a signed-in caller of the wrong kind or role gets a forbidden one.
    unauthorizedError: (_parent, ctx) =>
      ctx.kind === "anonymous" ? new UnauthenticatedError(ctx.authError) : new ForbiddenError(),
  },
  errors: {
    defaultTypes: [],
    defaultUnionOptions: {
      description: "The field's result, or one of its expected errors (each implements `Error`: select `... on Error { code message }`).",
    },
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === "production" ? null : "warn",
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    // node/nodes are defined in src/resolvers/system.ts: an id that does not decode is unknown (null).
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    // The generated connection, edge and page types carry these descriptions (they ship in the SDL).
    nodeTypeOptions: { description: "An object that can be fetched again by its global id with `node(id:)`." },
    idFieldOptions: { description: "Opaque global id: stable, unique across types; pass it back as is (do not parse it)." },
    pageInfoTypeOptions: { description: "Where a page sits in its connection, and the cursors to fetch the pages around it." },
    hasNextPageFieldOptions: { description: "Whether more items follow this page (fetch them with `first` and `after: endCursor`)." },
    hasPreviousPageFieldOptions: { description: "Whether items come before this page (fetch them with `last` and `before: startCursor`)." },
    startCursorFieldOptions: { description: "Cursor of the page's first edge; null when the page is empty." },
    endCursorFieldOptions: { description: "Cursor of the page's last edge; null when the page is empty." },
    pageInfoFieldOptions: { description: "Cursors and has-more flags for paging on." },
    edgesFieldOptions: { description: "The items of this page, in order, each with its cursor." },
    nodeFieldOptions: { description: "The item itself." },
    cursorFieldOptions: { description: "Opaque position of this item: pass it as `after` (or `before`) to page from here." },
    firstArgOptions: { description: "Page forwards: at most this many items after `after` (default 20, at most 100)." },
    afterArgOptions: { description: "Cursor (an edge's `cursor` or `pageInfo.endCursor`) to start after; omit for the first page." },
    lastArgOptions: { description: "Page backwards: at most this many items before `before` (at most 100)." },
    beforeArgOptions: { description: "Cursor (an edge's `cursor` or `pageInfo.startCursor`) to end before." },
    defaultConnectionTypeOptions: { description: "One page of a cursor connection (Relay): `edges` and `pageInfo`." },
    defaultEdgeTypeOptions: { description: "One item of a connection page, with its cursor." },
  },
});

builder.addScalarType("DateTime", DateTimeResolver);
builder.addScalarType("JSONObject", JSONObjectResolver);
