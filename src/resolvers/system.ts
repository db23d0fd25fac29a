import { isObjectType, type GraphQLResolveInfo } from "graphql";
import { Repeater } from "graphql-yoga";
import { resolveNodes } from "@pothos/plugin-relay";
import { builder } from "../schema/builder.js";
import { ValidationError } from "../services/errors.js";
import { decodeAnyGlobalId } from "../schema/ids.js";

builder.subscriptionField("heartbeat", (t) =>
  t.withAuth({ agent: true }).int({
    description: "A counter (1, 2, 3...) every `intervalMs` (100 to 60000, default 1000): lets a client check that its subscription connection is alive.",
    args: { intervalMs: t.arg.int({ required: false, defaultValue: 1000 }) },
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
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx, info) => (await resolveNodes(builder, ctx, info, decodeNodeIds([String(id)], info)))[0] as never,
  }),
);

builder.queryField("nodes", (t) =>
  t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, { ids }, ctx, info) => {
      // One statement per type, but an unbounded list would still hold the event loop (5,000 ids: 3 s).
      const max = ctx.config.limits.maxPageSize;
      if (ids.length > max) throw ValidationError.field("ids", `At most ${max} ids, got ${ids.length}`);
      return (await resolveNodes(builder, ctx, info, decodeNodeIds(ids.map(String), info))) as never;
    },
  }),
);
