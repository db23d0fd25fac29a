import type { Channel } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { ChannelObject } from "./channel.js";

/** Calling channels: the inbound secret that authenticates call events (POST /inbound/calls/<channel id>). */

export const RotateChannelInboundSecretInput = builder.inputType("RotateChannelInboundSecretInput", {
  fields: (t) => ({ channelId: t.id({ required: true, description: "A CALLING or TEAM_EMAIL channel." }) }),
});

export const RotateChannelInboundSecretResult = builder.objectRef<{ channel: Channel; secret: string; path: string }>("RotateChannelInboundSecretResult").implement({
  fields: (t) => ({
    channel: t.field({ type: ChannelObject, resolve: (r) => r.channel }),
    inboundSecret: t.exposeString("secret", {
      description: "Shown this once: the provider sends it as `Authorization: Bearer <secret>`. The previous secret stops working.",
    }),
    webhookPath: t.exposeString("path", { description: "Where a CALLING channel's provider posts call events (relative to this server)." }),
  }),
});
