import type { Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { visibleInboxWhere } from "./access.js";
import { ValidationError } from "./errors.js";

/**
 * Stores the users a comment mentions (MessageMention, read or not per mentioned user). Each must
 * be a current user of the account who can see the conversation's inbox: a mention never grants
 * access, so anyone else (a foreign, removed or unknown user, or one outside the inbox) is a
 * ValidationError on input.mentionUserIds.<i>, and nothing of the comment is stored. Duplicates
 * count once; mentioning yourself is allowed (a note to self).
 */
export async function recordMentions(
  tx: Prisma.TransactionClient,
  ctx: AgentContext,
  conversation: { id: string; inboxId: string },
  message: { id: string; createdAt: Date },
  userIds: readonly string[],
): Promise<void> {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return;
  if (unique.length > 50) throw ValidationError.field("input.mentionUserIds", "At most 50 users per comment");
  const users = await tx.user.findMany({ where: { accountId: ctx.accountId, id: { in: unique }, removedAt: null } });
  const byId = new Map(users.map((u) => [u.id, u]));
  for (const id of unique) {
    const user = byId.get(id);
    const index = String(userIds.indexOf(id));
    if (!user) throw ValidationError.field(["input", "mentionUserIds", index], "Unknown user");
    // What the mentioned user could see, by the rule every read goes through.
    const seen = await tx.inbox.findFirst({ where: { AND: [{ id: conversation.inboxId }, visibleInboxWhere({ ...ctx, user, visibleInboxIds: undefined })] }, select: { id: true } });
    if (!seen) throw ValidationError.field(["input", "mentionUserIds", index], `${user.firstName} cannot see this conversation (not a member of its inbox)`);
  }
  await tx.messageMention.createMany({
    data: unique.map((userId) => ({ accountId: ctx.accountId, messageId: message.id, conversationId: conversation.id, userId, createdAt: message.createdAt })),
  });
}
