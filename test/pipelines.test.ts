import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  TkCreatePipelineDocument,
  TkCreateTicketDocument,
  TkDeletePipelineDocument,
  TkPipelinesDocument,
  TkUpdatePipelineDocument,
  type TkPipelineFragment,
} from "./generated/graphql.js";
import { createTestAccount, startTestServer, type TestAccount, type TestServer } from "./support/server.js";

let t: TestServer;
let a: TestAccount;
let b: TestAccount;
const as = async (user: { id: string; accountId: string }) => t.client(await t.tokenFor(user));

beforeAll(async () => {
  t = await startTestServer();
  a = await createTestAccount(t.prisma, { name: "Pipelines A" });
  b = await createTestAccount(t.prisma, { name: "Pipelines B" });
});
afterAll(async () => t?.close());

async function create(user: { id: string; accountId: string }, input: { name: string; statuses: Array<{ name: string; isClosed?: boolean; requiredProperties?: string[] }> }) {
  const { createPipeline } = await (await as(user)).request(TkCreatePipelineDocument, { input });
  if (createPipeline.__typename !== "PipelineResult") throw new Error(`createPipeline: ${createPipeline.__typename} ${createPipeline.message}`);
  return createPipeline.pipeline;
}

const shape = (p: TkPipelineFragment) => p.statuses.map((s) => [s.name, s.position, s.isClosed, s.requiredProperties]);

describe("createPipeline", () => {
  test("an admin adds a pipeline after the default one, statuses in the given order", async () => {
    const pipeline = await create(a.admin, {
      name: "Sales",
      statuses: [{ name: "Lead" }, { name: "Won", isClosed: true, requiredProperties: ["amount", "amount"] }, { name: "Lost", isClosed: true }],
    });
    expect(pipeline.isDefault).toBe(false);
    expect(shape(pipeline)).toEqual([
      ["Lead", 0, false, []],
      ["Won", 1, true, ["amount"]],
      ["Lost", 2, true, []],
    ]);
    expect(pipeline.statuses[1].isConditional).toBe(true);
    const { pipelines } = await (await as(a.agent)).request(TkPipelinesDocument);
    expect(pipelines.map((p) => p.name)).toEqual(["Support pipeline", "Sales"]);
    const other = await (await as(b.admin)).request(TkPipelinesDocument);
    expect(other.pipelines.map((p) => p.name)).toEqual(["Support pipeline"]);
  });

  test("validation: no status, duplicate status names, empty and duplicate pipeline names", async () => {
    const admin = await as(a.admin);
    const none = await admin.request(TkCreatePipelineDocument, { input: { name: "Empty", statuses: [] } });
    expect(none.createPipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statuses"] }] });
    const dup = await admin.request(TkCreatePipelineDocument, { input: { name: "Dup", statuses: [{ name: "Open" }, { name: " open " }] } });
    expect(dup.createPipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statuses", "1", "name"] }] });
    const blank = await admin.request(TkCreatePipelineDocument, { input: { name: "  ", statuses: [{ name: "Open" }] } });
    expect(blank.createPipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    const taken = await admin.request(TkCreatePipelineDocument, { input: { name: "support PIPELINE", statuses: [{ name: "Open" }] } });
    expect(taken.createPipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "name"] }] });
    expect(await t.prisma.pipeline.count({ where: { accountId: a.accountId, name: { in: ["Empty", "Dup"] } } })).toBe(0);
  });

  test("agents cannot manage pipelines", async () => {
    const agent = await as(a.agent);
    const res = await agent.request(TkCreatePipelineDocument, { input: { name: "Agent's", statuses: [{ name: "Open" }] } });
    expect(res.createPipeline.__typename).toBe("ForbiddenError");
    const { pipelines } = await agent.request(TkPipelinesDocument);
    const upd = await agent.request(TkUpdatePipelineDocument, { input: { pipelineId: pipelines[0].id, name: "Renamed", statuses: [{ name: "Only" }] } });
    expect(upd.updatePipeline.__typename).toBe("ForbiddenError");
    expect(await t.prisma.pipeline.count({ where: { accountId: a.accountId, name: { in: ["Agent's", "Renamed"] } } })).toBe(0);
  });
});

describe("updatePipeline", () => {
  test("renames, reorders, edits, adds and removes statuses in one call", async () => {
    const p = await create(a.superAdmin, { name: "Onboarding", statuses: [{ name: "Kickoff" }, { name: "Setup" }, { name: "Done", isClosed: true }] });
    const [kickoff, setup, done] = p.statuses;
    const { updatePipeline } = await (await as(a.admin)).request(TkUpdatePipelineDocument, {
      input: {
        pipelineId: p.id,
        name: "Customer onboarding",
        statuses: [
          { id: setup.id, name: "Configuration" },
          { name: "Training" },
          { id: done.id, name: "Live", isClosed: true, requiredProperties: ["goLiveDate"] },
          { id: kickoff.id, name: "Kickoff" },
        ],
      },
    });
    if (updatePipeline.__typename !== "PipelineResult") throw new Error(updatePipeline.__typename);
    expect(updatePipeline.pipeline.name).toBe("Customer onboarding");
    expect(shape(updatePipeline.pipeline)).toEqual([
      ["Configuration", 0, false, []],
      ["Training", 1, false, []],
      ["Live", 2, true, ["goLiveDate"]],
      ["Kickoff", 3, false, []],
    ]);
    expect(updatePipeline.pipeline.statuses[0].id).toBe(setup.id);

    const { updatePipeline: removed } = await (await as(a.admin)).request(TkUpdatePipelineDocument, {
      input: { pipelineId: p.id, statuses: [{ id: done.id, name: "Live", isClosed: true }] },
    });
    if (removed.__typename !== "PipelineResult") throw new Error(removed.__typename);
    expect(shape(removed.pipeline)).toEqual([["Live", 0, true, []]]);
    expect(removed.pipeline.name).toBe("Customer onboarding");
  });

  test("a status in use by a ticket cannot be removed, and the refusal names it", async () => {
    const p = await create(a.admin, { name: "Escalations", statuses: [{ name: "Raised" }, { name: "Handled" }] });
    const admin = await as(a.admin);
    const created = await admin.request(TkCreateTicketDocument, { input: { name: "Escalated", statusId: p.statuses[1].id } });
    expect(created.createTicket.__typename).toBe("TicketResult");
    const res = await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: p.id, statuses: [{ id: p.statuses[0].id, name: "Raised" }] } });
    expect(res.updatePipeline.__typename).toBe("ValidationError");
    if (res.updatePipeline.__typename === "ValidationError") expect(res.updatePipeline.fieldErrors[0].message).toContain('"Handled"');
    expect(await t.prisma.pipelineStatus.count({ where: { accountId: a.accountId, pipeline: { name: "Escalations" } } })).toBe(2);

    const del = await admin.request(TkDeletePipelineDocument, { input: { pipelineId: p.id } });
    expect(del.deletePipeline.__typename).toBe("ValidationError");
  });

  test("turning a status closed or open moves closedAt of its tickets along", async () => {
    const p = await create(a.admin, { name: "Returns", statuses: [{ name: "Received" }, { name: "Refunded" }] });
    const admin = await as(a.admin);
    const created = await admin.request(TkCreateTicketDocument, { input: { name: "Return 1", statusId: p.statuses[1].id } });
    if (created.createTicket.__typename !== "TicketResult") throw new Error(created.createTicket.__typename);
    expect(created.createTicket.ticket.closedAt).toBeNull();
    const statuses = p.statuses.map((s) => ({ id: s.id, name: s.name }));
    await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: p.id, statuses: [statuses[0], { ...statuses[1], isClosed: true }] } });
    const closed = await t.prisma.ticket.findFirstOrThrow({ where: { accountId: a.accountId, name: "Return 1" } });
    expect(closed.closedAt).not.toBeNull();
    await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: p.id, statuses: [statuses[0], { ...statuses[1], isClosed: false }] } });
    const reopened = await t.prisma.ticket.findFirstOrThrow({ where: { accountId: a.accountId, name: "Return 1" } });
    expect(reopened.closedAt).toBeNull();
  });

  test("validation: empty list, duplicate names, a status of another pipeline", async () => {
    const admin = await as(a.admin);
    const p = await create(a.admin, { name: "Validation", statuses: [{ name: "One" }, { name: "Two" }] });
    const other = await create(a.admin, { name: "Other", statuses: [{ name: "Elsewhere" }] });
    const empty = await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: p.id, statuses: [] } });
    expect(empty.updatePipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statuses"] }] });
    const dup = await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: p.id, statuses: [{ id: p.statuses[0].id, name: "Two" }, { id: p.statuses[1].id, name: "two" }] } });
    expect(dup.updatePipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statuses", "1", "name"] }] });
    const foreign = await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: p.id, statuses: [{ id: other.statuses[0].id, name: "Stolen" }] } });
    expect(foreign.updatePipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "statuses", "0", "id"] }] });
    const { pipelines } = await admin.request(TkPipelinesDocument);
    expect(shape(pipelines.find((x) => x.id === p.id)!)).toEqual([["One", 0, false, []], ["Two", 1, false, []]]);
  });

  test("another account's pipeline or status is not found", async () => {
    const mine = await create(a.admin, { name: "Mine", statuses: [{ name: "Open" }] });
    const theirs = await create(b.admin, { name: "Theirs", statuses: [{ name: "Open" }] });
    const admin = await as(a.admin);
    const byPipeline = await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: theirs.id, statuses: [{ name: "Mine now" }] } });
    expect(byPipeline.updatePipeline).toMatchObject({ __typename: "NotFoundError", resource: "Pipeline" });
    const byStatus = await admin.request(TkUpdatePipelineDocument, { input: { pipelineId: mine.id, statuses: [{ id: theirs.statuses[0].id, name: "Open" }] } });
    expect(byStatus.updatePipeline).toMatchObject({ __typename: "NotFoundError", resource: "PipelineStatus" });
    const del = await admin.request(TkDeletePipelineDocument, { input: { pipelineId: theirs.id } });
    expect(del.deletePipeline.__typename).toBe("NotFoundError");
    expect(await t.prisma.pipelineStatus.count({ where: { accountId: b.accountId, name: "Open", pipeline: { name: "Theirs" } } })).toBe(1);
  });
});

describe("deletePipeline", () => {
  test("deletes an unused pipeline; the default one stays", async () => {
    const admin = await as(a.admin);
    const p = await create(a.admin, { name: "Temporary", statuses: [{ name: "Open" }] });
    const res = await admin.request(TkDeletePipelineDocument, { input: { pipelineId: p.id } });
    expect(res.deletePipeline).toEqual({ __typename: "DeletePipelineResult", deletedPipelineId: p.id });
    const { pipelines } = await admin.request(TkPipelinesDocument);
    expect(pipelines.some((x) => x.id === p.id)).toBe(false);
    const def = pipelines.find((x) => x.isDefault)!;
    const refused = await admin.request(TkDeletePipelineDocument, { input: { pipelineId: def.id } });
    expect(refused.deletePipeline).toMatchObject({ __typename: "ValidationError", fieldErrors: [{ path: ["input", "pipelineId"] }] });
    const agent = await (await as(a.agent)).request(TkDeletePipelineDocument, { input: { pipelineId: def.id } });
    expect(agent.deletePipeline.__typename).toBe("ForbiddenError");
  });
});
