import { Prisma, type PrismaClient } from "../generated/prisma/client.js";
import { getDatamodel } from "../generated/pothos-types.js";
import { sqlQuery } from "./sql.js";

/**
 * The read path: a Prisma `findMany` argument object (where, orderBy, cursor, take, skip and the
 * select/include tree plugin-prisma builds from a GraphQL selection) compiled into ONE SQL
 * statement, relations and nested connections included (correlated subqueries aggregated with
 * json_agg), run over `pg` (src/db/sql.ts) and returned shaped exactly as Prisma returns it, so the
 * schema's resolvers cannot tell the difference. Prisma's own client costs ~0.5 ms of CPU per
 * statement and one statement per relation level; this costs one statement per request.
 *
 * Scoping is not decided here: it arrives in `where` from the one place that decides it
 * (src/services/access.ts) and is compiled like any other filter. What the compiler does not know
 * (an operator, a relation shape) throws UnsupportedQuery; readMany then asks Prisma instead, so
 * an unsupported query is slower, never different.
 */
export class UnsupportedQuery extends Error {}

interface DmField {
  name: string;
  kind: "scalar" | "enum" | "object";
  type: string;
  isList: boolean;
  isId?: boolean;
  relationName?: string;
  relationFromFields?: string[];
}
interface DmModel {
  fields: DmField[];
  primaryKey: { fields: string[] } | null;
}

const models = getDatamodel().datamodel.models as unknown as Record<string, DmModel>;
const fieldMaps = new Map<string, Map<string, DmField>>();

function fieldsOf(model: string): Map<string, DmField> {
  let map = fieldMaps.get(model);
  if (!map) {
    const m = models[model];
    if (!m) throw new UnsupportedQuery(`Unknown model ${model}`);
    map = new Map(m.fields.map((f) => [f.name, f]));
    fieldMaps.set(model, map);
  }
  return map;
}

function idFields(model: string): string[] {
  const m = models[model];
  const id = m.fields.find((f) => f.isId);
  if (id) return [id.name];
  if (m.primaryKey) return m.primaryKey.fields;
  throw new UnsupportedQuery(`${model} has no id`);
}

/** The fields the foreign key `from` of `target` refers to: [id] or [accountId, id], as every relation here does. */
function referencedFields(target: string, from: string[]): string[] {
  const id = idFields(target);
  if (from.length === 1 && id.length === 1) return id;
  if (from.length === 2 && from[0] === "accountId" && id.length === 1) return ["accountId", id[0]];
  throw new UnsupportedQuery(`Relation keys ${from.join(",")} -> ${target}`);
}

/** SQL joining a row of the relation `field` (alias `child`) to its parent row (alias `parent`). */
function joinCondition(model: string, field: DmField, parent: string, child: string): Prisma.Sql {
  const pairs: [string, string][] = [];
  if (field.relationFromFields?.length) {
    const to = referencedFields(field.type, field.relationFromFields);
    field.relationFromFields.forEach((f, i) => pairs.push([f, to[i]]));
  } else {
    const back = models[field.type]?.fields.find((f) => f.relationName === field.relationName && f.relationFromFields?.length && f.type === model);
    if (!back) throw new UnsupportedQuery(`Relation ${model}.${field.name}`);
    const from = referencedFields(model, back.relationFromFields!);
    back.relationFromFields!.forEach((f, i) => pairs.push([from[i], f]));
  }
  return Prisma.raw(pairs.map(([p, c]) => `${child}."${c}" = ${parent}."${p}"`).join(" AND "));
}

const CASTS: Record<string, string> = { String: "text", Int: "int4", BigInt: "int8", Float: "float8", Boolean: "bool", DateTime: "timestamp(3)" };

function arrayCast(field: DmField): string {
  if (field.kind === "enum") return `"${field.type}"[]`;
  const cast = CASTS[field.type];
  if (!cast) throw new UnsupportedQuery(`Array of ${field.type}`);
  return `${cast}[]`;
}

class Compiler {
  private n = 0;
  alias() {
    return `r${++this.n}`;
  }

  where(model: string, where: unknown, a: string): Prisma.Sql {
    if (where == null) return Prisma.sql`TRUE`;
    if (typeof where !== "object") throw new UnsupportedQuery("where");
    const conds: Prisma.Sql[] = [];
    for (const [key, value] of Object.entries(where as Record<string, unknown>)) {
      if (value === undefined) continue;
      if (key === "AND") conds.push(...(Array.isArray(value) ? value : [value]).map((w) => this.where(model, w, a)));
      else if (key === "OR") {
        const list = value as unknown[];
        conds.push(list.length ? Prisma.sql`(${Prisma.join(list.map((w) => this.where(model, w, a)), " OR ")})` : Prisma.sql`FALSE`);
      } else if (key === "NOT") {
        for (const w of Array.isArray(value) ? value : [value]) conds.push(Prisma.sql`NOT (${this.where(model, w, a)})`);
      } else {
        const field = fieldsOf(model).get(key);
        if (!field) throw new UnsupportedQuery(`where ${model}.${key}`);
        conds.push(field.kind === "object" ? this.relationFilter(model, field, value, a) : this.scalarFilter(field, value, a));
      }
    }
    return conds.length ? Prisma.sql`(${Prisma.join(conds, " AND ")})` : Prisma.sql`TRUE`;
  }

  private scalarFilter(field: DmField, value: unknown, a: string): Prisma.Sql {
    const col = Prisma.raw(`${a}."${field.name}"`);
    if (field.isList) throw new UnsupportedQuery("list filter");
    if (value === null) return Prisma.sql`${col} IS NULL`;
    if (typeof value !== "object" || value instanceof Date) return Prisma.sql`${col} = ${value}`;
    const conds: Prisma.Sql[] = [];
    for (const [op, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      switch (op) {
        case "equals":
          conds.push(v === null ? Prisma.sql`${col} IS NULL` : Prisma.sql`${col} = ${v}`);
          break;
        case "not":
          conds.push(v === null ? Prisma.sql`${col} IS NOT NULL` : typeof v === "object" && !(v instanceof Date) ? Prisma.sql`NOT (${this.scalarFilter(field, v, a)})` : Prisma.sql`${col} IS DISTINCT FROM ${v}`);
          break;
        case "in":
          conds.push(Prisma.sql`${col} = ANY(${v}::${Prisma.raw(arrayCast(field))})`);
          break;
        case "notIn":
          conds.push(Prisma.sql`NOT (${col} = ANY(${v}::${Prisma.raw(arrayCast(field))}))`);
          break;
        case "lt":
          conds.push(Prisma.sql`${col} < ${v}`);
          break;
        case "lte":
          conds.push(Prisma.sql`${col} <= ${v}`);
          break;
        case "gt":
          conds.push(Prisma.sql`${col} > ${v}`);
          break;
        case "gte":
          conds.push(Prisma.sql`${col} >= ${v}`);
          break;
        default:
          throw new UnsupportedQuery(`operator ${op}`);
      }
    }
    return conds.length ? Prisma.join(conds, " AND ") : Prisma.sql`TRUE`;
  }

  private relationFilter(model: string, field: DmField, value: unknown, a: string): Prisma.Sql {
    const b = this.alias();
    const from = (w: unknown) => Prisma.sql`SELECT 1 FROM ${Prisma.raw(`"${field.type}" ${b}`)} WHERE ${joinCondition(model, field, a, b)} AND ${this.where(field.type, w, b)}`;
    if (field.isList) {
      const v = value as Record<string, unknown>;
      const conds: Prisma.Sql[] = [];
      if (v.some !== undefined) conds.push(Prisma.sql`EXISTS (${from(v.some)})`);
      if (v.none !== undefined) conds.push(Prisma.sql`NOT EXISTS (${from(v.none)})`);
      if (v.every !== undefined) conds.push(Prisma.sql`NOT EXISTS (${from({ NOT: v.every })})`);
      if (Object.keys(v).some((k) => !["some", "none", "every"].includes(k))) throw new UnsupportedQuery("list relation filter");
      return conds.length ? Prisma.join(conds, " AND ") : Prisma.sql`TRUE`;
    }
    if (value === null) return Prisma.sql`NOT EXISTS (${from({})})`;
    const v = value as Record<string, unknown>;
    if ("is" in v || "isNot" in v) {
      const conds: Prisma.Sql[] = [];
      if (v.is !== undefined) conds.push(v.is === null ? Prisma.sql`NOT EXISTS (${from({})})` : Prisma.sql`EXISTS (${from(v.is)})`);
      if (v.isNot !== undefined) conds.push(v.isNot === null ? Prisma.sql`EXISTS (${from({})})` : Prisma.sql`NOT EXISTS (${from(v.isNot)})`);
      return Prisma.join(conds, " AND ");
    }
    return Prisma.sql`EXISTS (${from(v)})`;
  }

  orderBy(model: string, orderBy: unknown, cursor: unknown): [string, "asc" | "desc"][] {
    const list = orderBy == null ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
    const out: [string, "asc" | "desc"][] = [];
    for (const entry of list as Record<string, unknown>[]) {
      for (const [key, dir] of Object.entries(entry)) {
        const field = fieldsOf(model).get(key);
        if (!field || field.kind === "object" || (dir !== "asc" && dir !== "desc")) throw new UnsupportedQuery(`orderBy ${key}`);
        out.push([key, dir]);
      }
    }
    // Prisma orders a cursor query by the cursor's fields when nothing else is given.
    if (!out.length && cursor) for (const key of this.cursorFields(model, cursor)) out.push([key[0], "asc"]);
    return out;
  }

  private cursorFields(model: string, cursor: unknown): [string, unknown][] {
    const entries = Object.entries(cursor as Record<string, unknown>);
    if (entries.length !== 1) throw new UnsupportedQuery("cursor");
    const [key, value] = entries[0];
    if (fieldsOf(model).has(key)) return [[key, value]];
    if (value && typeof value === "object") return Object.entries(value as Record<string, unknown>);
    throw new UnsupportedQuery("cursor");
  }

  /** Rows at or after the cursor row in `order` (Prisma's cursor semantics); no row when it is missing. */
  private cursorCondition(model: string, cursor: unknown, order: [string, "asc" | "desc"][], a: string): Prisma.Sql {
    const c = this.alias();
    const keys = this.cursorFields(model, cursor);
    const at = Prisma.join(keys.map(([k, v]) => Prisma.sql`${Prisma.raw(`${c}."${k}"`)} = ${v}`), " AND ");
    const value = (col: string) => Prisma.sql`(SELECT ${Prisma.raw(`${c}."${col}"`)} FROM ${Prisma.raw(`"${model}" ${c}`)} WHERE ${at})`;
    const alternatives: Prisma.Sql[] = [];
    for (let i = 0; i <= order.length; i++) {
      const parts = order.slice(0, i).map(([col]) => Prisma.sql`${Prisma.raw(`${a}."${col}"`)} = ${value(col)}`);
      if (i < order.length) {
        const [col, dir] = order[i];
        parts.push(Prisma.sql`${Prisma.raw(`${a}."${col}"`)} ${Prisma.raw(dir === "asc" ? ">" : "<")} ${value(col)}`);
      }
      alternatives.push(parts.length ? Prisma.join(parts, " AND ") : Prisma.sql`TRUE`);
    }
    return Prisma.sql`(EXISTS (SELECT 1 FROM ${Prisma.raw(`"${model}" ${c}`)} WHERE ${at}) AND ((${Prisma.join(alternatives, ") OR (")})))`;
  }

  /**
   * The rows of `model` matching `args` (where, orderBy, cursor, skip, take; negative take reads
   * backwards from the end), as a derived table aliased `a`, plus the ORDER BY that lists them.
   */
  rows(model: string, args: Record<string, unknown>, a: string, extra: Prisma.Sql[] = []) {
    const order = this.orderBy(model, args.orderBy, args.cursor);
    const take = args.take as number | undefined;
    const backward = take != null && take < 0;
    const conds = [this.where(model, args.where, a), ...extra];
    if (args.cursor) conds.push(this.cursorCondition(model, args.cursor, backward ? order.map(([c, d]) => [c, d === "asc" ? "desc" : "asc"]) : order, a));
    const orderSql = (flip: boolean) =>
      order.length ? Prisma.raw(`ORDER BY ${order.map(([col, dir]) => `${a}."${col}" ${(dir === "asc") !== flip ? "ASC" : "DESC"}`).join(", ")}`) : Prisma.empty;
    const limit = take != null ? Prisma.sql`LIMIT ${Math.abs(take)}` : Prisma.empty;
    const offset = args.skip ? Prisma.sql`OFFSET ${args.skip as number}` : Prisma.empty;
    const table = Prisma.sql`(SELECT * FROM ${Prisma.raw(`"${model}" ${a}`)} WHERE ${Prisma.join(conds, " AND ")} ${orderSql(backward)} ${limit} ${offset}) ${Prisma.raw(a)}`;
    return { table, order: orderSql(false) };
  }

  /** A JSON object of the row `a` of `model` with what `query` (select or include) asks for. */
  object(model: string, query: Record<string, unknown> | true, a: string): Prisma.Sql {
    const fields = fieldsOf(model);
    const q = query === true ? {} : query;
    if (q.select && q.include) throw new UnsupportedQuery("select and include");
    const chosen = (q.select ?? q.include ?? {}) as Record<string, unknown>;
    const pairs: Prisma.Sql[] = [];
    const scalar = (f: DmField) => Prisma.raw(`'${f.name}', ${a}."${f.name}"${f.type === "BigInt" ? (f.isList ? "::text[]" : "::text") : ""}`);
    if (!q.select) for (const f of fields.values()) if (f.kind !== "object") pairs.push(scalar(f));
    for (const [key, value] of Object.entries(chosen)) {
      if (!value) continue;
      if (key === "_count") {
        pairs.push(Prisma.sql`'_count', ${this.counts(model, value, a)}`);
        continue;
      }
      const f = fields.get(key);
      if (!f) throw new UnsupportedQuery(`${model}.${key}`);
      if (f.kind !== "object") {
        if (q.select) pairs.push(scalar(f));
        continue;
      }
      pairs.push(Prisma.sql`${Prisma.raw(`'${key}'`)}, ${this.relation(model, f, value as Record<string, unknown> | true, a)}`);
    }
    // json_build_object takes at most 100 arguments.
    if (pairs.length <= 50) return Prisma.sql`json_build_object(${Prisma.join(pairs, ", ")})`;
    const chunks: Prisma.Sql[] = [];
    for (let i = 0; i < pairs.length; i += 50) chunks.push(Prisma.sql`jsonb_build_object(${Prisma.join(pairs.slice(i, i + 50), ", ")})`);
    return Prisma.sql`(${Prisma.join(chunks, " || ")})::json`;
  }

  private relation(model: string, f: DmField, value: Record<string, unknown> | true, a: string): Prisma.Sql {
    const b = this.alias();
    const nested = value === true ? {} : value;
    if (!f.isList) {
      if (nested.where || nested.orderBy || nested.take || nested.cursor) throw new UnsupportedQuery("to-one arguments");
      return Prisma.sql`(SELECT ${this.object(f.type, nested, b)} FROM ${Prisma.raw(`"${f.type}" ${b}`)} WHERE ${joinCondition(model, f, a, b)} LIMIT 1)`;
    }
    const { table, order } = this.rows(f.type, nested, b, [joinCondition(model, f, a, b)]);
    return Prisma.sql`(SELECT coalesce(json_agg(${this.object(f.type, nested, b)} ${order}), '[]'::json) FROM ${table})`;
  }

  private counts(model: string, value: unknown, a: string): Prisma.Sql {
    const select = (value as { select?: Record<string, unknown> }).select;
    if (!select) throw new UnsupportedQuery("_count");
    const pairs = Object.entries(select)
      .filter(([, v]) => v)
      .map(([key, v]) => {
        const f = fieldsOf(model).get(key);
        if (!f || f.kind !== "object" || !f.isList) throw new UnsupportedQuery(`_count ${key}`);
        const b = this.alias();
        const where = v === true ? undefined : (v as { where?: unknown }).where;
        return Prisma.sql`${Prisma.raw(`'${key}'`)}, (SELECT count(*)::int FROM ${Prisma.raw(`"${f.type}" ${b}`)} WHERE ${joinCondition(model, f, a, b)} AND ${this.where(f.type, where, b)})`;
      });
    return Prisma.sql`json_build_object(${Prisma.join(pairs, ", ")})`;
  }
}

const timestamp = (v: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);

/** JSON as PostgreSQL wrote it -> the values Prisma returns (Date, bigint), following the datamodel. */
function hydrate(model: string, row: Record<string, unknown>): Record<string, unknown> {
  const fields = fieldsOf(model);
  for (const key in row) {
    const value = row[key];
    if (value == null) continue;
    const f = fields.get(key);
    if (!f) continue;
    if (f.kind === "object") {
      row[key] = Array.isArray(value) ? value.map((v) => hydrate(f.type, v as Record<string, unknown>)) : hydrate(f.type, value as Record<string, unknown>);
    } else if (f.type === "DateTime") {
      row[key] = Array.isArray(value) ? value.map((v) => timestamp(v as string)) : timestamp(value as string);
    } else if (f.type === "BigInt") {
      row[key] = Array.isArray(value) ? value.map((v) => BigInt(v as string)) : BigInt(value as string);
    }
  }
  return row;
}

export type FindManyArgs = Record<string, unknown>;

/**
 * `compiled: false` runs every read through Prisma instead (the path this one replaced, still the
 * fallback): test/read-path.test.ts and bench:inbox compare the two, field by field and in cost.
 */
export const readPath = { compiled: true };

/**
 * The statement readMany runs, for tests and EXPLAIN. `extra` are further conditions in SQL over
 * the row alias `r0` (search, keyset bounds), ANDed with `args.where`.
 */
export function compileFindMany(model: string, args: FindManyArgs, extra: (alias: string) => Prisma.Sql[] = () => [], computed: Computed = {}): Prisma.Sql {
  const c = new Compiler();
  const a = "r0";
  const { table, order } = c.rows(model, args, a, extra(a));
  const more = Object.entries(computed).map(([key, sql]) => Prisma.sql`${Prisma.raw(`'${key.replace(/'/g, "")}'`)}, ${sql(a)}`);
  const k = more.length ? Prisma.sql`, json_build_object(${Prisma.join(more, ", ")}) AS k` : Prisma.empty;
  return Prisma.sql`SELECT ${c.object(model, { select: args.select, include: args.include } as Record<string, unknown>, a)} AS j${k} FROM ${table} ${order}`;
}

/**
 * Values the read path adds to each root row beside Prisma's shape: key -> an SQL expression over
 * the row alias (e.g. the caller's unread count). Prisma cannot express them, so the fallback
 * leaves them out and the field that reads one computes it itself when it is missing.
 */
export type Computed = Record<string, (alias: string) => Prisma.Sql>;

/**
 * A Prisma `where` of `model` compiled to an SQL condition over the row alias `alias` (use an
 * alias that is not `r` + digits: those name the compiler's subqueries). Throws UnsupportedQuery
 * for what the compiler does not know.
 */
export function compileWhere(model: string, where: unknown, alias: string): Prisma.Sql {
  return new Compiler().where(model, where, alias);
}

/**
 * `prisma[model].findMany(args)` in one SQL statement (see the top of this file). With `extra`
 * SQL conditions the Prisma fallback first picks the ids in SQL, then loads them with Prisma.
 */
export async function readMany<T = Record<string, unknown>>(prisma: PrismaClient, model: string, args: FindManyArgs, extra?: (alias: string) => Prisma.Sql[], computed?: Computed): Promise<T[]> {
  let sql: Prisma.Sql;
  if (!readPath.compiled) return fallback<T>(prisma, model, args, extra);
  try {
    sql = compileFindMany(model, args, extra, computed);
  } catch (err) {
    if (!(err instanceof UnsupportedQuery)) throw err;
    return fallback<T>(prisma, model, args, extra);
  }
  const rows = await sqlQuery<{ j: Record<string, unknown>; k?: Record<string, unknown> }>(prisma, sql);
  return rows.map((r) => (r.k ? Object.assign(hydrate(model, r.j), r.k) : hydrate(model, r.j)) as T);
}

async function fallback<T>(prisma: PrismaClient, model: string, args: FindManyArgs, extra?: (alias: string) => Prisma.Sql[]): Promise<T[]> {
  const delegate = (prisma as unknown as Record<string, { findMany(a: unknown): Promise<T[]> }>)[model[0].toLowerCase() + model.slice(1)];
  if (!extra) return delegate.findMany(args);
  const id = idFields(model);
  if (id.length !== 1) throw new UnsupportedQuery(`${model} fallback`);
  const sql = compileFindMany(model, { ...args, select: { [id[0]]: true }, include: undefined }, extra);
  const picked = (await sqlQuery<{ j: Record<string, unknown> }>(prisma, sql)).map((r) => r.j);
  const ids = picked.map((r) => r[id[0]]);
  const { where: _w, cursor: _c, take: _t, skip: _s, ...rest } = args;
  const loaded = (await delegate.findMany({ ...rest, where: { [id[0]]: { in: ids } } })) as Record<string, unknown>[];
  const byId = new Map(loaded.map((r) => [r[id[0]], r]));
  return ids.map((i) => byId.get(i)).filter(Boolean) as T[];
}
