import { lexicographicSortSchema, type GraphQLSchema } from "graphql";
import { builder } from "./builder.js";

// Object types, inputs and enums (the nouns)...
import "./errors.js";
import "./people.js";
import "./inbox.js";
import "./channel.js";
import "./pipeline.js";
// ...then the fields that act on them (the verbs).
import "../resolvers/viewer.js";
import "../resolvers/inboxes.js";
import "../resolvers/people.js";

builder.queryType({
  description: "Reads. Most fields need an agent token and see only the caller's account (and, for agents, the inboxes they are members of); partner and public widget fields say so.",
});
builder.mutationType({
  description: "Writes. Each mutation takes one `input` object and returns a union of its result and its typed errors; it happens completely or not at all.",
});

let schema: GraphQLSchema | undefined;

/** Builds the schema once (no work happens at import time). */
export function getSchema(): GraphQLSchema {
  schema ??= lexicographicSortSchema(builder.toSchema());
  return schema;
}

import "./analytics.js";
import "../resolvers/analytics.js";
import "./contact.js";
import "./message.js";
import "./conversation.js";
import "../resolvers/conversations.js";
import "../resolvers/messages.js";
import "../resolvers/contacts.js";
import "../resolvers/intake.js";
import "./ticket.js";
import "../resolvers/pipelines.js";
import "../resolvers/tickets.js";
import "./system.js";
import "../resolvers/system.js";
import "./channel-settings.js";
import "./email.js";
import "./channel-app.js";
import "../resolvers/channels.js";
import "../resolvers/channel-apps.js";
import "./reply-and-status.js";
import "../resolvers/reply-and-status.js";
import "./event-cursor.js";
import "../resolvers/subscriptions.js";
import "./attachment-download.js";
import "./widget.js";
import "./calls.js";
import "./form-submission.js";
import "../resolvers/widget.js";
import "./chatflow.js";
import "../resolvers/chatflows.js";
import "../resolvers/forms.js";
import "../resolvers/calls.js";
import "./typing.js";
import "../resolvers/typing.js";
import "../resolvers/account.js";
import "./label.js";
import "../resolvers/labels.js";
import "./bulk-actions.js";
import "../resolvers/bulk-actions.js";
import "./conversation-states.js";
import "../resolvers/conversation-states.js";
import "./snippet.js";
import "../resolvers/snippets.js";
import "./presence.js";
import "../resolvers/presence.js";
import "./merge.js";
import "../resolvers/merge.js";
import "./contact-records.js";
import "../resolvers/contact-records.js";
import "./view.js";
import "../resolvers/views.js";
