-- Labels: account-wide, coloured tags on conversations and tickets. Names are unique per account
-- whatever their case (nameKey = lower(name)); a label's links go with it.
-- CreateTable
CREATE TABLE "Label" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "color" TEXT NOT NULL,
    "description" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Label_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConversationLabel" (
    "accountId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "labelId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConversationLabel_pkey" PRIMARY KEY ("conversationId","labelId")
);

-- CreateTable
CREATE TABLE "TicketLabel" (
    "accountId" TEXT NOT NULL,
    "ticketId" TEXT NOT NULL,
    "labelId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TicketLabel_pkey" PRIMARY KEY ("ticketId","labelId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Label_accountId_id_key" ON "Label"("accountId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Label_accountId_nameKey_key" ON "Label"("accountId", "nameKey");

-- CreateIndex
CREATE INDEX "ConversationLabel_accountId_labelId_idx" ON "ConversationLabel"("accountId", "labelId");

-- CreateIndex
CREATE INDEX "TicketLabel_accountId_labelId_idx" ON "TicketLabel"("accountId", "labelId");

-- AddForeignKey
ALTER TABLE "Label" ADD CONSTRAINT "Label_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConversationLabel" ADD CONSTRAINT "ConversationLabel_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConversationLabel" ADD CONSTRAINT "ConversationLabel_accountId_conversationId_fkey" FOREIGN KEY ("accountId", "conversationId") REFERENCES "Conversation"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConversationLabel" ADD CONSTRAINT "ConversationLabel_accountId_labelId_fkey" FOREIGN KEY ("accountId", "labelId") REFERENCES "Label"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TicketLabel" ADD CONSTRAINT "TicketLabel_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TicketLabel" ADD CONSTRAINT "TicketLabel_accountId_ticketId_fkey" FOREIGN KEY ("accountId", "ticketId") REFERENCES "Ticket"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TicketLabel" ADD CONSTRAINT "TicketLabel_accountId_labelId_fkey" FOREIGN KEY ("accountId", "labelId") REFERENCES "Label"("accountId", "id") ON DELETE CASCADE ON UPDATE CASCADE;

