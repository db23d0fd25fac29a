import { expect, test } from "vitest";
import { getSchema } from "../src/schema/index.js";
import { undescribedSchemaElements } from "./support/schema-descriptions.js";

test("every type, field, argument, input field and enum value of the schema has a description", () => {
  expect(undescribedSchemaElements(getSchema())).toEqual([]);
});
