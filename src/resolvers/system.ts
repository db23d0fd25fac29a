import { isObjectType, type GraphQLResolveInfo } from "graphql";
import { Repeater } from "graphql-yoga";
import { resolveNodes } from "@pothos/plugin-relay";
import { brandWithType } from "@pothos/core";
import { queryFromInfo } from "@pothos/plugin-prisma";
import { loadConversation } from "../services/conversations.js";
import { builder } from "../schema/builder.js";
import { ValidationError } from "../services/errors.js";
import { decodeAnyGlobalId } from "../schema/ids.js";

builder.subscriptionField("heartbeat", (t) =>
  t.withAuth({ agent: true }).int({
    description: "A counter (1, 2, 3...) every `intervalMs` (100 to 60000, default 1000): lets a client check that its subscription connection is alive.",
    args: { intervalMs: t.arg.int({ required: false, defaultValue: 1000, description: "Milliseconds between ticks, 100 to 60000." }) },
    subscribe: (_root, { intervalMs }) => {
      const ms = intervalMs ?? 1000;
      if (ms < 100 || ms > 60_000) throw ValidationError.field("intervalMs", "must be between 100 and 60000");
      return new Repeater<number>(async (push, stop) => {
        let n = 0;
        const timer = setInterval(() => void push(++n), ms);
        await stop;
        clearInterval(timer);
      });
    },
    resolve: (n) => n,
  }),
);

/**
 * Relay's `node` / `nodes`, defined here instead of by plugin-relay so that an id that does not
 * decode (not base64, no "<Type>:<id>", a type that is not a Node, an id with NUL) is an unknown
 * id: it resolves to null in place, like a missing or foreign one, instead of failing the field.
 */
function decodeNodeIds(ids: readonly string[], info: GraphQLResolveInfo) {
  return ids.map((globalId) => {
    const decoded = decodeAnyGlobalId(globalId);
    const type = decoded && info.schema.getType(decoded.typename);
    return decoded && isObjectType(type) && type.getInterfaces().some((i) => i.name === "Node") ? decoded : null;
  });
}

builder.queryField("node", (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: "Fetches any object by its global id; null when it does not exist, belongs to another account, is hidden from the caller or the id is malformed.",
    args: { id: t.arg.id({ required: true, description: "A global id as returned by any `id` field." }) },
    resolve: async (_root, { id }, ctx, info) => {
      const [decoded] = decodeNodeIds([String(id)], info);
      // A conversation with its side panel (contact, tickets, previous conversations, messages): one statement.
      if (decoded?.typename === "Conversation" && ctx.kind === "agent") {
        const row = await loadConversation(ctx, decoded.id, queryFromInfo({ context: ctx, info, typeName: "Conversation" }));
        if (row) brandWithType(row, "Conversation" as never);
        return row as never;
      }
      return (await resolveNodes(builder, ctx, info, [decoded]))[0] as never;
    },
  }),
);

builder.queryField("nodes", (t) =>
  t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: "Fetches several objects by global id, in the order given; each unknown, foreign, hidden or malformed id gives null in its place.",
    args: { ids: t.arg.idList({ required: true, description: "Global ids (at most the server's page limit, 5,000 by default)." }) },
    resolve: async (_root, { ids }, ctx, info) => {
      // One statement per type, but an unbounded list would still hold the event loop (5,000 ids: 3 s).
      const max = ctx.config.limits.maxPageSize;
      if (ids.length > max) throw ValidationError.field("ids", `At most ${max} ids, got ${ids.length}`);
      return (await resolveNodes(builder, ctx, info, decodeNodeIds(ids.map(String), info))) as never;
    },
  }),
);
