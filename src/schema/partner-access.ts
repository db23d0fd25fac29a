import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from "@pothos/core";
import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import type { Context, PartnerContext } from "../context.js";
import { ForbiddenError } from "../services/errors.js";
import { partnerOwnership, type PartnerOwnership } from "../services/channel-apps.js";

/**
 * What a partner token may read, deny by default.
 *
 * Every field of the schema goes through this plugin: for a partner caller, a field answers only
 * when `Type.field` is listed in PARTNER_FIELDS, and a field of a type in PARTNER_OWNED only when
 * its object belongs to the partner (its own app, its app's channels and their messages). Anything
 * else answers FORBIDDEN. A field added later is therefore closed to partners until it is listed
 * here, and test/partner-access.test.ts, which walks the schema from these root fields, names it.
 * Agents, visitors and anonymous callers are not affected (their resolvers are called as they are).
 */
export const PARTNER_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Query: ["myChannelApps", "partnerChannel", "node", "nodes"],
  Mutation: ["registerChannelApp", "updateChannelApp", "publishInboundMessage", "updateDeliveryStatus"],

  // The partner's own apps and the channels accounts connected to them.
  ChannelApp: ["id", "name", "description", "logoUrl", "credentialFields", "capabilities", "threadingModel", "webhookUrl", "createdAt", "updatedAt", "connectedChannels"],
  CredentialField: ["name", "label", "secret", "required"],
  ChannelAppCapabilities: ["messageKinds", "attachmentKinds", "richText", "maxAttachmentSize", "maxAttachments"],
  PartnerChannel: ["id", "name", "type", "status", "createdAt", "account", "app", "credentials"],
  PartnerAccount: ["id", "name"],
  ChannelCredential: ["name", "label", "secret", "value", "isSet"],
  // The account's view of the same channel (reached from a message): no inbox, routing or defaults.
  Channel: ["id", "name", "type", "status", "createdAt", "custom"],
  CustomChannelSettings: ["app", "credentials"],

  // Messages of those channels, as far as the reply webhook carries them (no author, no conversation).
  Message: ["id", "direction", "kind", "senderType", "text", "richText", "externalId", "deliveryStatus", "deliveryError", "createdAt", "attachments", "channel", "inReplyTo"],
  Attachment: ["kind", "url", "name", "mimeType", "size"],

  // Mutation results and the typed errors of the partner mutations.
  RegisterChannelAppResult: ["app", "webhookSigningSecret"],
  ChannelAppResult: ["app"],
  PublishInboundMessageResult: ["inboundMessage", "message", "conversationId", "duplicate", "conversationCreated"],
  MessageResult: ["sentMessage", "message"],
  ValidationError: ["message", "code", "fieldErrors"],
  FieldError: ["path", "message"],
  NotFoundError: ["message", "code", "resource"],
  ForbiddenError: ["message", "code"],
  ChannelOffError: ["message", "code"],
};

/**
 * Row checks: an object of one of these types is readable by a partner only when it belongs to
 * one of the partner's apps. Types not listed here are values reached only through a checked
 * object or a partner-scoped root field (a result, an attachment, an error).
 */
const PARTNER_OWNED: Readonly<Record<string, (row: Record<string, unknown>, owner: PartnerOwnership) => boolean | Promise<boolean>>> = {
  ChannelApp: (app, owner) => app.partnerId === owner.partnerId,
  Channel: (channel, owner) => channel.type === "CUSTOM" && owner.ownsApp(channel.channelAppId),
  PartnerChannel: (channel, owner) => owner.ownsApp(channel.channelAppId),
  // Customer messages and replies only: internal comments (and any kind added later) never reach a partner.
  Message: (message, owner) => message.kind === "MESSAGE" && owner.ownsChannel(message.channelId),
};

const allowed = new Set(Object.entries(PARTNER_FIELDS).flatMap(([type, fields]) => fields.map((f) => `${type}.${f}`)));

/** Whether a partner token may read `Type.field` (row checks aside). */
export function partnerMayRead(type: string, field: string): boolean {
  return allowed.has(`${type}.${field}`);
}

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types["Context"], object>;

const isPartner = (ctx: object): ctx is PartnerContext => (ctx as Context).kind === "partner";

interface RequestData {
  owner: PartnerOwnership;
  /** Each object's row check, run once however many of its fields are selected. */
  checked: WeakMap<object, Promise<boolean>>;
}

export class PothosPartnerAccessPlugin<Types extends SchemaTypes> extends BasePlugin<Types, RequestData> {
  private readonly wrapped = new Set<string>();

  override createRequestData(ctx: Types["Context"]): RequestData {
    return { owner: partnerOwnership(ctx as PartnerContext), checked: new WeakMap() };
  }

  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    const { parentType, name } = fieldConfig;
    this.wrapped.add(`${parentType}.${name}`);
    if (!partnerMayRead(parentType, name)) {
      return (parent, args, ctx, info) => {
        if (isPartner(ctx)) throw new ForbiddenError(`A partner token cannot read ${parentType}.${name}`);
        return resolver(parent, args, ctx, info);
      };
    }
    const owned = PARTNER_OWNED[parentType];
    if (!owned) return resolver;
    return (parent, args, ctx, info) => {
      if (!isPartner(ctx)) return resolver(parent, args, ctx, info);
      return this.owns(ctx, owned, parent).then((yes) => {
        if (!yes) throw new ForbiddenError(`This ${parentType} does not belong to your channel apps`);
        return resolver(parent, args, ctx, info);
      });
    };
  }

  override wrapSubscribe(subscribe: Resolver<Types> | undefined, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> | undefined {
    const { parentType, name } = fieldConfig;
    if (!subscribe || partnerMayRead(parentType, name)) return subscribe;
    return (parent, args, ctx, info) => {
      if (isPartner(ctx)) throw new ForbiddenError(`A partner token cannot subscribe to ${name}`);
      return subscribe(parent, args, ctx, info);
    };
  }

  /** Refuses a schema with a field that escaped the guard, or an allowlist entry naming no field. */
  override afterBuild(schema: GraphQLSchema): GraphQLSchema {
    const problems: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith("__")) continue;
      for (const field of Object.keys(type.getFields())) if (!this.wrapped.has(`${type.name}.${field}`)) problems.push(`${type.name}.${field} is not guarded`);
    }
    for (const key of allowed) {
      const [type, field] = key.split(".");
      const graphqlType = schema.getType(type);
      if (!isObjectType(graphqlType) || !graphqlType.getFields()[field]) problems.push(`PARTNER_FIELDS names ${key}, which the schema does not have`);
    }
    if (problems.length) throw new Error(`Partner access: ${problems.join("; ")}`);
    return schema;
  }

  private owns(ctx: PartnerContext, check: (typeof PARTNER_OWNED)[string], parent: unknown): Promise<boolean> {
    // Fail closed: a value that is not a loaded row cannot be shown to belong to anyone.
    if (typeof parent !== "object" || parent === null) return Promise.resolve(false);
    const data = this.requestData(ctx as Types["Context"]);
    let result = data.checked.get(parent);
    if (!result) {
      result = Promise.resolve(check(parent as Record<string, unknown>, data.owner)).catch((err) => {
        data.checked.delete(parent);
        throw err;
      });
      data.checked.set(parent, result);
    }
    return result;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      partnerAccess: PothosPartnerAccessPlugin<Types>;
    }
  }
}

export const partnerAccessPlugin = "partnerAccess" as const;
SchemaBuilder.registerPlugin(partnerAccessPlugin, PothosPartnerAccessPlugin);
