import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { getDatamodel } from "../generated/pothos-types.js";
import { sqlQuery } from "./sql.js";

/** Field types a `pg` read returns as Prisma does (see the type parsers in sql.ts), given the casts below. */
const PLAIN_TYPES = new Set(["String", "Int", "Boolean", "DateTime", "Json", "BigInt"]);

const selects = new Map<string, Prisma.Sql | null>();

/**
 * `SELECT` of every scalar and enum field of `model`, as Prisma's model API returns them (enums
 * as text), or null when a field has a type read differently through `pg` (Decimal, Bytes...).
 */
function selectFor(model: string): Prisma.Sql | null {
  let select = selects.get(model);
  if (select !== undefined) return select;
  const fields = getDatamodel().datamodel.models[model]?.fields.filter((f) => f.kind === "scalar" || f.kind === "enum") ?? [];
  const columns: string[] = [];
  for (const f of fields) {
    if (f.kind === "enum") columns.push(f.isList ? `"${f.name}"::text[] AS "${f.name}"` : `"${f.name}"::text AS "${f.name}"`);
    else if (PLAIN_TYPES.has(f.type) && (!f.isList || f.type === "String")) columns.push(`"${f.name}"`);
    else {
      columns.length = 0;
      break;
    }
  }
  select = columns.length > 0 ? Prisma.raw(`SELECT ${columns.join(", ")} FROM "${model}"`) : null;
  selects.set(model, select);
  return select;
}

/**
 * One row of `model` by id within the account, with its scalar fields only: what
 * `findUniqueOrThrow({ where: { id } })` returns when the selection needs no relation, read
 * through `pg` (a Prisma query costs several times the CPU, and this runs for every live event).
 * Rejects when there is no such row, like findUniqueOrThrow. A model with a field `pg` would
 * read differently is read by `viaPrisma`.
 */
export async function findScalarRow<T>(prisma: PrismaClient, model: Prisma.ModelName, accountId: string, id: string, viaPrisma: () => Promise<T>): Promise<T> {
  const select = selectFor(model);
  if (!select) return viaPrisma();
  const [row] = await sqlQuery<T>(prisma, Prisma.sql`${select} WHERE "accountId" = ${accountId} AND id = ${id}`);
  if (!row) throw new Error(`No ${model} found`);
  return row;
}
