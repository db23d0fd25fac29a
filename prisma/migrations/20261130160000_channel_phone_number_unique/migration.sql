-- Deleted channels free their number (as they free their email address and Facebook page).
UPDATE "Channel" SET "phoneNumber" = NULL WHERE "deletedAt" IS NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "Channel_type_phoneNumber_key" ON "Channel"("type", "phoneNumber");
