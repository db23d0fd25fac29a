import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CreateInboxDocument,
  CreateTeamDocument,
  CreateUserDocument,
  InboxesDocument,
  NodeDocument,
  PipelinesDocument,
  RemoveUserDocument,
  SetInboxMembersDocument,
  SetTeamMembersDocument,
  UpdateUserDocument,
  UsersAndTeamsDocument,
  ViewerDocument,
} from "./generated/graphql.js";
import { toGlobalId } from "../src/schema/ids.js";
import { createTestAccount, createTestUser, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

let t: TestServer;
let a: TestAccount;
let b: TestAccount;
let as: (user: { id: string; accountId: string }) => Promise<ReturnType<TestServer["client"]>>;

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Alpha" });
  b = await createTestAccount(t.prisma, { name: "Beta" });
  as = async (user) => t.client(await t.tokenFor(user));
});
afterAll(async () => t?.close());

test("health reports liveness and database readiness", async () => {
  const res = await fetch(t.url.replace("/graphql", "/health"));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok", database: "ok" });
  expect((await fetch(t.url.replace("/graphql", "/health/live"))).status).toBe(200);
});

test("viewer returns the caller and its account", async () => {
  const { viewer } = await (await as(a.admin)).request(ViewerDocument);
  expect(viewer).toMatchObject({ email: a.admin.email, role: "ADMIN", seat: "PAID", account: { name: "Alpha", tier: "PROFESSIONAL" } });
});

test("a new account has its help desk and the default pipeline with a conditional Closed status", async () => {
  const client = await as(a.agent);
  const { helpDesk } = await client.request(InboxesDocument);
  expect(helpDesk.kind).toBe("HELP_DESK");
  const { pipelines } = await client.request(PipelinesDocument);
  expect(pipelines).toHaveLength(1);
  expect(pipelines[0].statuses.map((s) => [s.name, s.isClosed, s.requiredProperties])).toEqual([
    ["New", false, []],
    ["Waiting on contact", false, []],
    ["Waiting on us", false, []],
    ["Closed", true, ["resolution"]],
  ]);
  expect(pipelines[0].statuses[3].isConditional).toBe(true);
});

describe("inboxes", () => {
  test("admins create inboxes; agents see only the inboxes they belong to, directly or through a team", async () => {
    const admin = await as(a.admin);
    const team = await admin.request(CreateTeamDocument, { input: { name: "Support crew", userIds: [toGlobalId("User", a.agent.id)] } });
    expect(team.createTeam.__typename).toBe("TeamResult");
    const teamId = team.createTeam.__typename === "TeamResult" ? team.createTeam.team.id : "";
    const viaTeam = await admin.request(CreateInboxDocument, { input: { name: "Support", teamIds: [teamId] } });
    const direct = await admin.request(CreateInboxDocument, { input: { name: "Sales", userIds: [toGlobalId("User", a.agent.id)] } });
    await admin.request(CreateInboxDocument, { input: { name: "Secret" } });
    expect(viaTeam.createInbox.__typename).toBe("InboxResult");
    expect(direct.createInbox.__typename).toBe("InboxResult");
    if (viaTeam.createInbox.__typename === "InboxResult") expect(viaTeam.createInbox.inbox.fallbackEmail).toMatch(/^inbox-.+@/);

    const adminView = await admin.request(InboxesDocument);
    expect(adminView.inboxes.map((i) => i.name).sort()).toEqual(["Sales", "Secret", "Support"]);
    const agentView = await (await as(a.agent)).request(InboxesDocument);
    expect(agentView.inboxes.map((i) => i.name).sort()).toEqual(["Sales", "Support"]);
    const otherAccount = await (await as(b.admin)).request(InboxesDocument);
    expect(otherAccount.inboxes).toEqual([]);
  });

  test("refusals are typed and store nothing", async () => {
    const before = await t.prisma.inbox.count();
    const agent = await (await as(a.agent)).request(CreateInboxDocument, { input: { name: "Nope" } });
    expect(agent.createInbox.__typename).toBe("ForbiddenError");
    const empty = await (await as(a.admin)).request(CreateInboxDocument, { input: { name: "  " } });
    expect(empty.createInbox).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    const dup = await (await as(a.admin)).request(CreateInboxDocument, { input: { name: "sales" } });
    expect(dup.createInbox).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    const foreignUser = await (await as(a.admin)).request(CreateInboxDocument, { input: { name: "X", userIds: [toGlobalId("User", b.agent.id)] } });
    expect(foreignUser.createInbox).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "userIds"] }] });
    expect(await t.prisma.inbox.count()).toBe(before);
  });

  test("another account's inbox id behaves exactly like a missing one", async () => {
    const foreign = toGlobalId("Inbox", b.helpDeskId);
    const missing = toGlobalId("Inbox", "00000000-0000-0000-0000-000000000001");
    const admin = await as(a.admin);
    const r1 = await admin.request(SetInboxMembersDocument, { input: { inboxId: foreign, userIds: [], teamIds: [] } });
    const r2 = await admin.request(SetInboxMembersDocument, { input: { inboxId: missing, userIds: [], teamIds: [] } });
    expect(r1.setInboxMembers).toEqual(r2.setInboxMembers);
    expect(r1.setInboxMembers).toMatchObject({ __typename: "NotFoundError", code: "NOT_FOUND" });
    expect(await t.prisma.inboxUser.count({ where: { inboxId: b.helpDeskId } })).toBe(1);
  });

  test("setInboxMembers replaces users and teams", async () => {
    const admin = await as(a.admin);
    const inbox = toGlobalId("Inbox", a.helpDeskId);
    const r = await admin.request(SetInboxMembersDocument, { input: { inboxId: inbox, userIds: [toGlobalId("User", a.agent.id)], teamIds: [] } });
    expect(r.setInboxMembers).toMatchObject({ __typename: "InboxResult", inbox: { users: [{ id: toGlobalId("User", a.agent.id) }], teams: [] } });
  });
});

describe("node(id)", () => {
  test("loads the caller's objects and nothing of other accounts", async () => {
    const client = await as(a.admin);
    for (const [type, id] of [["User", a.agent.id], ["Inbox", a.helpDeskId], ["Account", a.accountId]] as const) {
      const { node } = await client.request(NodeDocument, { id: toGlobalId(type, id) });
      expect(node?.__typename).toBe(type);
    }
    for (const [type, id] of [["User", b.agent.id], ["Inbox", b.helpDeskId], ["Account", b.accountId]] as const) {
      const { node } = await client.request(NodeDocument, { id: toGlobalId(type, id) });
      expect(node).toBeNull();
    }
    const pipelineB = await t.prisma.pipeline.findFirstOrThrow({ where: { accountId: b.accountId } });
    expect((await client.request(NodeDocument, { id: toGlobalId("Pipeline", pipelineB.id) })).node).toBeNull();
  });
});

describe("users and teams", () => {
  test("lists only the caller's account", async () => {
    const { users, teams } = await (await as(b.agent)).request(UsersAndTeamsDocument);
    expect(users.map((u) => u.email).sort()).toEqual([b.superAdmin.email, b.admin.email, b.agent.email].sort());
    expect(teams).toEqual([]);
  });

  test("admins add users; only a super admin grants super admin; agents cannot", async () => {
    const admin = await as(b.admin);
    const ok = await admin.request(CreateUserDocument, { input: { email: "New.Agent@Example.test", firstName: "New", seat: "FREE", chatCapacity: 3 } });
    expect(ok.createUser).toMatchObject({ __typename: "UserResult", user: { email: "new.agent@example.test", role: "AGENT", seat: "FREE", chatCapacity: 3 } });
    const dup = await admin.request(CreateUserDocument, { input: { email: "new.agent@example.test", firstName: "Again" } });
    expect(dup.createUser).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "email"] }] });
    const bad = await admin.request(CreateUserDocument, { input: { email: "nope", firstName: "", chatCapacity: -1 } });
    expect(bad.createUser.__typename === "ValidationError" && bad.createUser.fieldErrors.map((e) => e.path.join(".")).sort()).toEqual([
      "input.chatCapacity",
      "input.email",
      "input.firstName",
    ]);
    expect((await admin.request(CreateUserDocument, { input: { email: "boss@example.test", firstName: "Boss", role: "SUPER_ADMIN" } })).createUser.__typename).toBe("ForbiddenError");
    expect((await (await as(b.agent)).request(CreateUserDocument, { input: { email: "x@example.test", firstName: "X" } })).createUser.__typename).toBe("ForbiddenError");
    expect(await t.prisma.user.count({ where: { accountId: b.accountId, email: { in: ["boss@example.test", "x@example.test"] } } })).toBe(0);
  });

  test("a super admin cannot be demoted by an admin, and the last super admin stays", async () => {
    const admin = await as(b.admin);
    const superAdmin = await as(b.superAdmin);
    const sa = toGlobalId("User", b.superAdmin.id);
    expect((await admin.request(UpdateUserDocument, { input: { userId: sa, role: "AGENT" } })).updateUser.__typename).toBe("ForbiddenError");
    expect((await admin.request(RemoveUserDocument, { input: { userId: sa } })).removeUser.__typename).toBe("ForbiddenError");
    expect((await superAdmin.request(UpdateUserDocument, { input: { userId: sa, role: "ADMIN" } })).updateUser).toMatchObject({ __typename: "ValidationError" });
    expect((await superAdmin.request(RemoveUserDocument, { input: { userId: sa } })).removeUser).toMatchObject({ __typename: "ValidationError" });
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: b.superAdmin.id } })).role).toBe("SUPER_ADMIN");

    const second = await createTestUser(t.prisma, b.accountId, { role: "SUPER_ADMIN" });
    const demoted = await superAdmin.request(UpdateUserDocument, { input: { userId: toGlobalId("User", second.id), role: "AGENT", seat: "FREE", chatCapacity: null } });
    expect(demoted.updateUser).toMatchObject({ __typename: "UserResult", user: { role: "AGENT", seat: "FREE", chatCapacity: null } });
    const removed = await superAdmin.request(RemoveUserDocument, { input: { userId: toGlobalId("User", second.id) } });
    expect(removed.removeUser.__typename).toBe("UserResult");
    expect((await (await as(b.agent)).request(UsersAndTeamsDocument)).users.map((u) => u.id)).not.toContain(toGlobalId("User", second.id));
  });

  test("teams: names unique, members of the account only, foreign team ids not found", async () => {
    const admin = await as(b.admin);
    const created = await admin.request(CreateTeamDocument, { input: { name: "Night shift" } });
    expect(created.createTeam.__typename).toBe("TeamResult");
    expect((await admin.request(CreateTeamDocument, { input: { name: "Night shift" } })).createTeam.__typename).toBe("ValidationError");
    const teamId = created.createTeam.__typename === "TeamResult" ? created.createTeam.team.id : "";
    const set = await admin.request(SetTeamMembersDocument, { input: { teamId, userIds: [toGlobalId("User", b.agent.id)] } });
    expect(set.setTeamMembers).toMatchObject({ __typename: "TeamResult", team: { members: [{ id: toGlobalId("User", b.agent.id) }] } });
    const foreignMember = await admin.request(SetTeamMembersDocument, { input: { teamId, userIds: [toGlobalId("User", a.agent.id)] } });
    expect(foreignMember.setTeamMembers.__typename).toBe("ValidationError");
    const foreignTeam = await (await as(a.admin)).request(SetTeamMembersDocument, { input: { teamId, userIds: [] } });
    expect(foreignTeam.setTeamMembers.__typename).toBe("NotFoundError");
    expect(await t.prisma.teamMember.count({ where: { teamId: teamId && (await t.prisma.team.findFirstOrThrow({ where: { name: "Night shift" } })).id } })).toBe(1);
  });
});
