// npm run schema: prints the GraphQL schema to schema.graphql (committed; a test checks it is fresh).
import { writeFile } from "node:fs/promises";
import { printSchemaFile } from "./schema-text.js";

await writeFile(new URL("../schema.graphql", import.meta.url), printSchemaFile());
console.log("Wrote schema.graphql");
