import { z } from "zod";
import { ValidationError } from "./errors.js";

/**
 * Parses `input` with a zod schema; on failure throws one ValidationError listing every bad
 * field with its path under `root` (e.g. ["input", "chat", "color"]).
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root: string[] = ["input"]): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.map((issue) => ({ path: [...root, ...issue.path.map(String)], message: issue.message })));
}

export const name = (max = 120) => z.string().trim().min(1, "Must not be empty").max(max, `At most ${max} characters`);
export const email = () => z.string().trim().toLowerCase().max(254).email("Must be an email address");
