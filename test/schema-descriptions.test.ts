import { buildSchema } from "graphql";
import { expect, test } from "vitest";
import { getSchema } from "../src/schema/index.js";
import { undescribedSchemaElements } from "./support/schema-descriptions.js";

test("every type, field, argument, input field and enum value of the schema has a description", () => {
  expect(undescribedSchemaElements(getSchema())).toEqual([]);
});

test("the check names each kind of undescribed element, and skips the spec's built-in types", () => {
  const sdl = `
    "Described." type Query { "Described." a(x: Int, "Described." y: Int): Int b: Thing }
    type Thing implements Node { id: ID! }
    "Described." interface Node { id: ID! }
    input Filter { "Described." keep: Int lost: Int }
    "Described." enum Colour { "Described." RED GREEN }
    scalar Odd
    "Described." type Mutation { "Described." f("Described." filter: Filter, colour: Colour, odd: Odd): Int }
  `;
  expect(undescribedSchemaElements(buildSchema(sdl))).toEqual([
    "Colour.GREEN",
    "Filter",
    "Filter.lost",
    "Node.id",
    "Odd",
    "Query.a(x:)",
    "Query.b",
    "Thing",
    "Thing.id",
    "Mutation.f(colour:)",
    "Mutation.f(odd:)",
  ].sort());
});

test("every deprecated field names its replacement, a live field of the same type (README: Deprecation policy)", () => {
  const problems: string[] = [];
  let deprecated = 0;
  for (const type of Object.values(getSchema().getTypeMap())) {
    if (type.name.startsWith("__") || !("getFields" in type)) continue;
    const fields = type.getFields() as Record<string, { deprecationReason?: string | null }>;
    for (const [name, field] of Object.entries(fields)) {
      if (field.deprecationReason == null) continue;
      deprecated++;
      const replacement = /^Use `(\w+)`/.exec(field.deprecationReason)?.[1];
      if (!replacement) problems.push(`${type.name}.${name}: reason does not start with "Use \`<field>\`"`);
      else if (!fields[replacement] || fields[replacement].deprecationReason != null) problems.push(`${type.name}.${name}: ${replacement} is not a live field`);
    }
  }
  expect(problems).toEqual([]);
  // The renames of issue 16 (MessageResult, PublishInboundMessageResult, ReplyAndUpdateTicketStatusResult, SendVisitorMessageResult).
  expect(deprecated).toBeGreaterThanOrEqual(4);
});
