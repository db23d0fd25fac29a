import { Prisma } from "../generated/prisma/client.js";

/** True when `err` is a unique-constraint violation (P2002), optionally on one of `fields`. */
export function isUniqueViolation(err: unknown, fields?: string[]): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== "P2002") return false;
  if (!fields) return true;
  const target = err.meta?.target;
  const text = Array.isArray(target) ? target.join(",") : String(target ?? err.message);
  return fields.some((f) => text.includes(f));
}

/** True when a required row was missing (P2025) or a foreign key did not match (P2003). */
export function isMissingRow(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && (err.code === "P2025" || err.code === "P2003");
}
