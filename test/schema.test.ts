import { readFile } from "node:fs/promises";
import { expect, test } from "vitest";
import { printSchemaFile } from "../scripts/schema-text.js";

test("the committed schema.graphql matches the code (run `npm run schema` after schema changes)", async () => {
  const committed = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
  expect(committed).toBe(printSchemaFile());
});
