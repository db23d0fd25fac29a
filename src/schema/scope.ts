import type { Context } from "../context.js";

/** Never matches a real account: used so that non-agent callers load no account rows. */
const NO_ACCOUNT = "00000000-0000-0000-0000-000000000000";

/**
 * The account a node lookup is limited to (foreign ids then behave like missing ones). Only
 * agents load objects by id: visitors read their own chat through the widget fields, partners
 * through their app's fields.
 */
export function callerAccountId(ctx: Context): string {
  return ctx.kind === "agent" ? ctx.accountId : NO_ACCOUNT;
}
