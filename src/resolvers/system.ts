import { Repeater } from "graphql-yoga";
import { builder } from "../schema/builder.js";
import { ValidationError } from "../services/errors.js";

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
