-- "Only the assignee may reply": when on, agents other than an assigned conversation's assignee
-- may comment but not reply (admins may override per reply).
ALTER TABLE "Account" ADD COLUMN "onlyAssigneeMayReply" BOOLEAN NOT NULL DEFAULT false;
