import { builder } from "./builder.js";

// The Subscription root is declared once, here; domain files add their fields with
// builder.subscriptionField(s).
builder.subscriptionType({
  description: "Real-time events, over WebSocket (graphql-transport-ws) or SSE on /graphql.",
});
