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
