import { builder } from "./builder.js";
import { AttachmentObject } from "./message.js";
import { DOWNLOAD_URL_TTL_SECONDS, signedDownloadUrl } from "../services/attachments-store.js";

builder.prismaObjectField(AttachmentObject, "downloadUrl", (t) =>
  t.string({
    nullable: true,
    select: { id: true, storageKey: true },
    description: `A short-lived signed URL (valid ${DOWNLOAD_URL_TTL_SECONDS / 60} minutes) that downloads a file kept by this server, such as an inbound email attachment; relative to this server unless PUBLIC_URL is set. Null for attachments that are only links (see url).`,
    resolve: (attachment, _args, ctx) => (attachment.storageKey ? signedDownloadUrl(ctx.config, attachment.id) : null),
  }),
);
