import { builder } from "../schema/builder.js";
import { UserType } from "../schema/people.js";

builder.queryFields((t) => ({
  viewer: t.withAuth({ agent: true }).prismaField({
    type: UserType,
    description: "The caller; its account is viewer.account.",
    resolve: (query, _root, _args, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: ctx.user.id } }),
  }),
}));
