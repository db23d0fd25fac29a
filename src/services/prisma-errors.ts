import { Prisma } from "../generated/prisma/client.js";

/**
 * True when `err` is a unique-constraint violation, optionally on one of `fields`: P2002 from a
 * model query, or P2010 from a raw query that the driver adapter reports as one.
 */
export function isUniqueViolation(err: unknown, fields?: string[]): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const raw = (err.meta?.driverAdapterError as { cause?: { kind?: string; constraint?: { fields?: string[] } } } | undefined)?.cause;
  if (err.code !== "P2002" && !(err.code === "P2010" && raw?.kind === "UniqueConstraintViolation")) return false;
  if (!fields) return true;
  const target = err.meta?.target ?? raw?.constraint?.fields;
  const text = Array.isArray(target) ? target.join(",") : String(target ?? err.message);
  return fields.some((f) => text.includes(f));
}

/** True when a required row was missing (P2025) or a foreign key did not match (P2003). */
export function isMissingRow(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && (err.code === "P2025" || err.code === "P2003");
}
