-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Tier" AS ENUM ('FREE', 'STARTER', 'PROFESSIONAL', 'ENTERPRISE');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('SUPER_ADMIN', 'ADMIN', 'AGENT');

-- CreateEnum
CREATE TYPE "Seat" AS ENUM ('PAID', 'FREE');

-- CreateEnum
CREATE TYPE "Availability" AS ENUM ('AVAILABLE', 'AWAY');

-- CreateEnum
CREATE TYPE "InboxKind" AS ENUM ('INBOX', 'HELP_DESK');

-- CreateEnum
CREATE TYPE "ChannelType" AS ENUM ('TEAM_EMAIL', 'CHAT', 'FACEBOOK_MESSENGER', 'FORM', 'WHATSAPP', 'CALLING', 'CUSTOM');

-- CreateEnum
CREATE TYPE "ChannelStatus" AS ENUM ('ON', 'OFF');

-- CreateEnum
CREATE TYPE "RoutingTarget" AS ENUM ('SPECIFIC', 'CONTACT_OWNER');

-- CreateEnum
CREATE TYPE "TicketPriority" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'URGENT');

-- CreateEnum
CREATE TYPE "ThreadingModel" AS ENUM ('NEW_THREAD_PER_MESSAGE', 'THREAD_KEY');

-- CreateEnum
CREATE TYPE "ConversationStatus" AS ENUM ('OPEN', 'CLOSED');

-- CreateEnum
CREATE TYPE "MessageDirection" AS ENUM ('INBOUND', 'OUTBOUND');

-- CreateEnum
CREATE TYPE "MessageKind" AS ENUM ('MESSAGE', 'COMMENT', 'CALL');

-- CreateEnum
CREATE TYPE "SenderType" AS ENUM ('CONTACT', 'AGENT', 'BOT');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('PENDING', 'SENT', 'DELIVERED', 'READ', 'FAILED');

-- CreateEnum
CREATE TYPE "AttachmentKind" AS ENUM ('FILE', 'IMAGE', 'AUDIO', 'VOICE_NOTE', 'STICKER', 'VIDEO');

-- CreateEnum
CREATE TYPE "OutboundKind" AS ENUM ('PARTNER_WEBHOOK', 'EMAIL', 'GRAPH_API', 'NOTIFICATION_EMAIL');

-- CreateEnum
CREATE TYPE "OutboundState" AS ENUM ('PENDING', 'DONE', 'FAILED');

-- CreateTable
CREATE TABLE "Account" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tier" "Tier" NOT NULL DEFAULT 'FREE',
    "brandColor" TEXT NOT NULL DEFAULT '#425B76',
    "contactAssociationLimit" INTEGER NOT NULL DEFAULT 10000,
    "eventSeq" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "firstName" TEXT NOT NULL,
    "lastName" TEXT NOT NULL DEFAULT '',
    "role" "Role" NOT NULL DEFAULT 'AGENT',
    "seat" "Seat" NOT NULL DEFAULT 'PAID',
    "availability" "Availability" NOT NULL DEFAULT 'AVAILABLE',
    "chatCapacity" INTEGER,
    "muteNewMessageNotifications" BOOLEAN NOT NULL DEFAULT false,
    "lastAssignedAt" TIMESTAMP(3),
    "removedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Team" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Team_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TeamMember" (
    "accountId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,

    CONSTRAINT "TeamMember_pkey" PRIMARY KEY ("teamId","userId")
);

-- CreateTable
CREATE TABLE "Inbox" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "kind" "InboxKind" NOT NULL DEFAULT 'INBOX',
    "name" TEXT NOT NULL,
    "fallbackEmail" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Inbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboxUser" (
    "accountId" TEXT NOT NULL,
    "inboxId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,

    CONSTRAINT "InboxUser_pkey" PRIMARY KEY ("inboxId","userId")
);

-- CreateTable
CREATE TABLE "InboxTeam" (
    "accountId" TEXT NOT NULL,
    "inboxId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,

    CONSTRAINT "InboxTeam_pkey" PRIMARY KEY ("inboxId","teamId")
);

-- CreateTable
CREATE TABLE "Partner" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Partner_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChannelApp" (
    "id" TEXT NOT NULL,
    "partnerId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "logoUrl" TEXT,
    "credentialFields" JSONB NOT NULL DEFAULT '[]',
    "capabilities" JSONB NOT NULL DEFAULT '{}',
    "threadingModel" "ThreadingModel" NOT NULL DEFAULT 'THREAD_KEY',
    "webhookUrl" TEXT NOT NULL,
    "webhookSecret" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ChannelApp_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Channel" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "inboxId" TEXT NOT NULL,
    "type" "ChannelType" NOT NULL,
    "name" TEXT NOT NULL,
    "status" "ChannelStatus" NOT NULL DEFAULT 'ON',
    "settings" JSONB NOT NULL DEFAULT '{}',
    "emailAddress" TEXT,
    "facebookPageId" TEXT,
    "phoneNumber" TEXT,
    "channelAppId" TEXT,
    "credentials" JSONB NOT NULL DEFAULT '{}',
    "inboundSecretHash" TEXT,
    "formId" TEXT,
    "autoAssign" BOOLEAN NOT NULL DEFAULT false,
    "routingTarget" "RoutingTarget" NOT NULL DEFAULT 'SPECIFIC',
    "onlyAvailable" BOOLEAN NOT NULL DEFAULT true,
    "conversationDefaults" JSONB NOT NULL DEFAULT '{}',
    "createTickets" BOOLEAN NOT NULL DEFAULT false,
    "ticketPipelineId" TEXT,
    "ticketStatusId" TEXT,
    "ticketPriority" "TicketPriority",
    "ticketOwnerId" TEXT,
    "movedToHelpDeskAt" TIMESTAMP(3),
    "deletedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Channel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChannelRoutingUser" (
    "accountId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,

    CONSTRAINT "ChannelRoutingUser_pkey" PRIMARY KEY ("channelId","userId")
);

-- CreateTable
CREATE TABLE "ChannelRoutingTeam" (
    "accountId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,

    CONSTRAINT "ChannelRoutingTeam_pkey" PRIMARY KEY ("channelId","teamId")
);

-- CreateTable
CREATE TABLE "Form" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "fields" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Form_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Contact" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "email" TEXT,
    "phone" TEXT,
    "ownerId" TEXT,
    "tracked" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Contact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContactHandle" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "contactId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "handle" TEXT NOT NULL,

    CONSTRAINT "ContactHandle_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Conversation" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "inboxId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "contactId" TEXT,
    "visitorName" TEXT,
    "visitorEmail" TEXT,
    "subject" TEXT,
    "threadKey" TEXT,
    "assigneeId" TEXT,
    "assignedAt" TIMESTAMP(3),
    "status" "ConversationStatus" NOT NULL DEFAULT 'OPEN',
    "ticketId" TEXT,
    "properties" JSONB NOT NULL DEFAULT '{}',
    "lastActivityAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastInboundAt" TIMESTAMP(3),
    "firstInboundAt" TIMESTAMP(3),
    "firstResponseAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "search" tsvector,

    CONSTRAINT "Conversation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Message" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "direction" "MessageDirection" NOT NULL,
    "kind" "MessageKind" NOT NULL DEFAULT 'MESSAGE',
    "senderType" "SenderType" NOT NULL,
    "authorId" TEXT,
    "text" TEXT,
    "richText" TEXT,
    "inReplyToId" TEXT,
    "externalId" TEXT,
    "deliveryStatus" "DeliveryStatus",
    "deliveryError" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Attachment" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "kind" "AttachmentKind" NOT NULL,
    "url" TEXT,
    "storageKey" TEXT,
    "name" TEXT,
    "mimeType" TEXT,
    "size" INTEGER,

    CONSTRAINT "Attachment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Pipeline" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Pipeline_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PipelineStatus" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "pipelineId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "isClosed" BOOLEAN NOT NULL DEFAULT false,
    "requiredProperties" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "PipelineStatus_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Ticket" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "pipelineId" TEXT NOT NULL,
    "statusId" TEXT NOT NULL,
    "priority" "TicketPriority" NOT NULL DEFAULT 'MEDIUM',
    "ownerId" TEXT,
    "contactId" TEXT,
    "properties" JSONB NOT NULL DEFAULT '{}',
    "closedAt" TIMESTAMP(3),
    "lastActivityAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Ticket_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Event" (
    "id" BIGSERIAL NOT NULL,
    "accountId" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "type" TEXT NOT NULL,
    "inboxId" TEXT,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "publishedAt" TIMESTAMP(3),

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboundDelivery" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "kind" "OutboundKind" NOT NULL,
    "messageId" TEXT,
    "channelId" TEXT,
    "userId" TEXT,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "state" "OutboundState" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "lockedUntil" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "OutboundDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "accountId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "response" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("accountId","key")
);

-- CreateIndex
CREATE INDEX "User_accountId_role_idx" ON "User"("accountId", "role");

-- CreateIndex
CREATE UNIQUE INDEX "User_accountId_id_key" ON "User"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "User_accountId_email_key" ON "User"("accountId", "email");

-- CreateIndex
CREATE UNIQUE INDEX "Team_accountId_id_key" ON "Team"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Team_accountId_name_key" ON "Team"("accountId", "name");

-- CreateIndex
CREATE INDEX "TeamMember_accountId_userId_idx" ON "TeamMember"("accountId", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "Inbox_fallbackEmail_key" ON "Inbox"("fallbackEmail");

-- CreateIndex
CREATE INDEX "Inbox_accountId_kind_idx" ON "Inbox"("accountId", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "Inbox_accountId_id_key" ON "Inbox"("accountId", "id");

-- CreateIndex
CREATE INDEX "InboxUser_accountId_userId_idx" ON "InboxUser"("accountId", "userId");

-- CreateIndex
CREATE INDEX "InboxTeam_accountId_teamId_idx" ON "InboxTeam"("accountId", "teamId");

-- CreateIndex
CREATE INDEX "ChannelApp_partnerId_idx" ON "ChannelApp"("partnerId");

-- CreateIndex
CREATE UNIQUE INDEX "Channel_emailAddress_key" ON "Channel"("emailAddress");

-- CreateIndex
CREATE UNIQUE INDEX "Channel_facebookPageId_key" ON "Channel"("facebookPageId");

-- CreateIndex
CREATE INDEX "Channel_accountId_inboxId_idx" ON "Channel"("accountId", "inboxId");

-- CreateIndex
CREATE INDEX "Channel_accountId_type_status_idx" ON "Channel"("accountId", "type", "status");

-- CreateIndex
CREATE INDEX "Channel_channelAppId_idx" ON "Channel"("channelAppId");

-- CreateIndex
CREATE UNIQUE INDEX "Channel_accountId_id_key" ON "Channel"("accountId", "id");

-- CreateIndex
CREATE INDEX "ChannelRoutingUser_accountId_userId_idx" ON "ChannelRoutingUser"("accountId", "userId");

-- CreateIndex
CREATE INDEX "ChannelRoutingTeam_accountId_teamId_idx" ON "ChannelRoutingTeam"("accountId", "teamId");

-- CreateIndex
CREATE UNIQUE INDEX "Form_accountId_id_key" ON "Form"("accountId", "id");

-- CreateIndex
CREATE INDEX "Contact_accountId_createdAt_idx" ON "Contact"("accountId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Contact_accountId_id_key" ON "Contact"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Contact_accountId_email_key" ON "Contact"("accountId", "email");

-- CreateIndex
CREATE UNIQUE INDEX "Contact_accountId_phone_key" ON "Contact"("accountId", "phone");

-- CreateIndex
CREATE INDEX "ContactHandle_accountId_contactId_idx" ON "ContactHandle"("accountId", "contactId");

-- CreateIndex
CREATE UNIQUE INDEX "ContactHandle_accountId_channelId_handle_key" ON "ContactHandle"("accountId", "channelId", "handle");

-- CreateIndex
CREATE INDEX "Conversation_accountId_inboxId_status_lastActivityAt_idx" ON "Conversation"("accountId", "inboxId", "status", "lastActivityAt" DESC);

-- CreateIndex
CREATE INDEX "Conversation_accountId_lastActivityAt_idx" ON "Conversation"("accountId", "lastActivityAt" DESC);

-- CreateIndex
CREATE INDEX "Conversation_accountId_assigneeId_status_idx" ON "Conversation"("accountId", "assigneeId", "status");

-- CreateIndex
CREATE INDEX "Conversation_accountId_channelId_threadKey_idx" ON "Conversation"("accountId", "channelId", "threadKey");

-- CreateIndex
CREATE INDEX "Conversation_accountId_contactId_idx" ON "Conversation"("accountId", "contactId");

-- CreateIndex
CREATE INDEX "Conversation_accountId_createdAt_idx" ON "Conversation"("accountId", "createdAt");

-- CreateIndex
CREATE INDEX "Conversation_search_idx" ON "Conversation" USING GIN ("search");

-- CreateIndex
CREATE UNIQUE INDEX "Conversation_accountId_id_key" ON "Conversation"("accountId", "id");

-- CreateIndex
CREATE INDEX "Message_accountId_conversationId_createdAt_idx" ON "Message"("accountId", "conversationId", "createdAt");

-- CreateIndex
CREATE INDEX "Message_accountId_createdAt_idx" ON "Message"("accountId", "createdAt");

-- CreateIndex
CREATE INDEX "Message_accountId_externalId_idx" ON "Message"("accountId", "externalId");

-- CreateIndex
CREATE UNIQUE INDEX "Message_accountId_id_key" ON "Message"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Message_accountId_channelId_externalId_key" ON "Message"("accountId", "channelId", "externalId");

-- CreateIndex
CREATE INDEX "Attachment_accountId_messageId_idx" ON "Attachment"("accountId", "messageId");

-- CreateIndex
CREATE INDEX "Pipeline_accountId_position_idx" ON "Pipeline"("accountId", "position");

-- CreateIndex
CREATE UNIQUE INDEX "Pipeline_accountId_id_key" ON "Pipeline"("accountId", "id");

-- CreateIndex
CREATE INDEX "PipelineStatus_accountId_pipelineId_position_idx" ON "PipelineStatus"("accountId", "pipelineId", "position");

-- CreateIndex
CREATE UNIQUE INDEX "PipelineStatus_accountId_id_key" ON "PipelineStatus"("accountId", "id");

-- CreateIndex
CREATE INDEX "Ticket_accountId_lastActivityAt_idx" ON "Ticket"("accountId", "lastActivityAt" DESC);

-- CreateIndex
CREATE INDEX "Ticket_accountId_pipelineId_statusId_idx" ON "Ticket"("accountId", "pipelineId", "statusId");

-- CreateIndex
CREATE INDEX "Ticket_accountId_ownerId_idx" ON "Ticket"("accountId", "ownerId");

-- CreateIndex
CREATE INDEX "Ticket_accountId_contactId_idx" ON "Ticket"("accountId", "contactId");

-- CreateIndex
CREATE UNIQUE INDEX "Ticket_accountId_id_key" ON "Ticket"("accountId", "id");

-- CreateIndex
CREATE INDEX "Event_publishedAt_id_idx" ON "Event"("publishedAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Event_accountId_seq_key" ON "Event"("accountId", "seq");

-- CreateIndex
CREATE INDEX "OutboundDelivery_state_nextAttemptAt_idx" ON "OutboundDelivery"("state", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "OutboundDelivery_accountId_messageId_idx" ON "OutboundDelivery"("accountId", "messageId");

-- CreateIndex
CREATE INDEX "IdempotencyKey_createdAt_idx" ON "IdempotencyKey"("createdAt");

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Team" ADD CONSTRAINT "Team_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamMember" ADD CONSTRAINT "TeamMember_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamMember" ADD CONSTRAINT "TeamMember_accountId_teamId_fkey" FOREIGN KEY ("accountId", "teamId") REFERENCES "Team"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeamMember" ADD CONSTRAINT "TeamMember_accountId_userId_fkey" FOREIGN KEY ("accountId", "userId") REFERENCES "User"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Inbox" ADD CONSTRAINT "Inbox_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboxUser" ADD CONSTRAINT "InboxUser_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboxUser" ADD CONSTRAINT "InboxUser_accountId_inboxId_fkey" FOREIGN KEY ("accountId", "inboxId") REFERENCES "Inbox"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboxUser" ADD CONSTRAINT "InboxUser_accountId_userId_fkey" FOREIGN KEY ("accountId", "userId") REFERENCES "User"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboxTeam" ADD CONSTRAINT "InboxTeam_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboxTeam" ADD CONSTRAINT "InboxTeam_accountId_inboxId_fkey" FOREIGN KEY ("accountId", "inboxId") REFERENCES "Inbox"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InboxTeam" ADD CONSTRAINT "InboxTeam_accountId_teamId_fkey" FOREIGN KEY ("accountId", "teamId") REFERENCES "Team"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelApp" ADD CONSTRAINT "ChannelApp_partnerId_fkey" FOREIGN KEY ("partnerId") REFERENCES "Partner"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_accountId_inboxId_fkey" FOREIGN KEY ("accountId", "inboxId") REFERENCES "Inbox"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_channelAppId_fkey" FOREIGN KEY ("channelAppId") REFERENCES "ChannelApp"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_accountId_formId_fkey" FOREIGN KEY ("accountId", "formId") REFERENCES "Form"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_accountId_ticketPipelineId_fkey" FOREIGN KEY ("accountId", "ticketPipelineId") REFERENCES "Pipeline"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_accountId_ticketStatusId_fkey" FOREIGN KEY ("accountId", "ticketStatusId") REFERENCES "PipelineStatus"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Channel" ADD CONSTRAINT "Channel_accountId_ticketOwnerId_fkey" FOREIGN KEY ("accountId", "ticketOwnerId") REFERENCES "User"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRoutingUser" ADD CONSTRAINT "ChannelRoutingUser_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRoutingUser" ADD CONSTRAINT "ChannelRoutingUser_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRoutingUser" ADD CONSTRAINT "ChannelRoutingUser_accountId_userId_fkey" FOREIGN KEY ("accountId", "userId") REFERENCES "User"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRoutingTeam" ADD CONSTRAINT "ChannelRoutingTeam_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRoutingTeam" ADD CONSTRAINT "ChannelRoutingTeam_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChannelRoutingTeam" ADD CONSTRAINT "ChannelRoutingTeam_accountId_teamId_fkey" FOREIGN KEY ("accountId", "teamId") REFERENCES "Team"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Form" ADD CONSTRAINT "Form_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Contact" ADD CONSTRAINT "Contact_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Contact" ADD CONSTRAINT "Contact_accountId_ownerId_fkey" FOREIGN KEY ("accountId", "ownerId") REFERENCES "User"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactHandle" ADD CONSTRAINT "ContactHandle_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactHandle" ADD CONSTRAINT "ContactHandle_accountId_contactId_fkey" FOREIGN KEY ("accountId", "contactId") REFERENCES "Contact"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContactHandle" ADD CONSTRAINT "ContactHandle_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_inboxId_fkey" FOREIGN KEY ("accountId", "inboxId") REFERENCES "Inbox"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_contactId_fkey" FOREIGN KEY ("accountId", "contactId") REFERENCES "Contact"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_assigneeId_fkey" FOREIGN KEY ("accountId", "assigneeId") REFERENCES "User"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversation" ADD CONSTRAINT "Conversation_accountId_ticketId_fkey" FOREIGN KEY ("accountId", "ticketId") REFERENCES "Ticket"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_accountId_conversationId_fkey" FOREIGN KEY ("accountId", "conversationId") REFERENCES "Conversation"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_accountId_authorId_fkey" FOREIGN KEY ("accountId", "authorId") REFERENCES "User"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_accountId_inReplyToId_fkey" FOREIGN KEY ("accountId", "inReplyToId") REFERENCES "Message"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Attachment" ADD CONSTRAINT "Attachment_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Attachment" ADD CONSTRAINT "Attachment_accountId_messageId_fkey" FOREIGN KEY ("accountId", "messageId") REFERENCES "Message"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Pipeline" ADD CONSTRAINT "Pipeline_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PipelineStatus" ADD CONSTRAINT "PipelineStatus_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PipelineStatus" ADD CONSTRAINT "PipelineStatus_accountId_pipelineId_fkey" FOREIGN KEY ("accountId", "pipelineId") REFERENCES "Pipeline"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_accountId_pipelineId_fkey" FOREIGN KEY ("accountId", "pipelineId") REFERENCES "Pipeline"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_accountId_statusId_fkey" FOREIGN KEY ("accountId", "statusId") REFERENCES "PipelineStatus"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_accountId_ownerId_fkey" FOREIGN KEY ("accountId", "ownerId") REFERENCES "User"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Ticket" ADD CONSTRAINT "Ticket_accountId_contactId_fkey" FOREIGN KEY ("accountId", "contactId") REFERENCES "Contact"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Event" ADD CONSTRAINT "Event_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutboundDelivery" ADD CONSTRAINT "OutboundDelivery_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutboundDelivery" ADD CONSTRAINT "OutboundDelivery_accountId_messageId_fkey" FOREIGN KEY ("accountId", "messageId") REFERENCES "Message"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OutboundDelivery" ADD CONSTRAINT "OutboundDelivery_accountId_channelId_fkey" FOREIGN KEY ("accountId", "channelId") REFERENCES "Channel"("accountId", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IdempotencyKey" ADD CONSTRAINT "IdempotencyKey_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

