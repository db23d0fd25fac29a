import { builder } from "../schema/builder.js";
import { AnalyticsType } from "../schema/analytics.js";
import { fromGlobalId } from "../schema/ids.js";
import { getAnalytics } from "../services/analytics.js";

builder.queryFields((t) => ({
  analytics: t.withAuth({ agent: true }).field({
    type: AnalyticsType,
    description:
      "Analytics over [from, to) (at most 367 days). inboxId limits it to that inbox's conversations; timeZone (IANA, default UTC) sets the days of the daily series. Admins see everything; agents only their own row. Invalid arguments fail with code VALIDATION.",
    args: {
      from: t.arg({ type: "DateTime", required: true, description: "Start of the period (inclusive)." }),
      to: t.arg({ type: "DateTime", required: true, description: "End of the period (exclusive); at most 367 days after from." }),
      inboxId: t.arg.id({ description: "Only conversations of this inbox (or the help desk)." }),
      timeZone: t.arg.string({ description: "IANA time zone, e.g. Europe/Rome, that cuts the daily series into days; default UTC." }),
    },
    resolve: (_root, args, ctx) =>
      getAnalytics(ctx, { from: args.from, to: args.to, timeZone: args.timeZone, inboxId: args.inboxId ? fromGlobalId(String(args.inboxId), "Inbox") : null }),
  }),
}));
