import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { NotFoundError, ValidationError } from "../services/errors.js";
import { isStorableText } from "../services/storable.js";

/**
 * Decodes a global ID of the expected type, the one place IDs are decoded. A malformed ID or an
 * ID of another type is a NotFoundError, exactly like a missing or foreign one.
 */
export function fromGlobalId(globalId: string, typename: string): string {
  const decoded = decodeAnyGlobalId(globalId);
  if (!decoded || decoded.typename !== typename) throw new NotFoundError(typename, globalId);
  return decoded.id;
}

/** Longest database id a global ID may carry (ours are 36-character UUIDs). */
const MAX_ID_LENGTH = 200;

/**
 * Decodes a global ID of any type; null when it does not decode to "<Type>:<id>" with an id
 * PostgreSQL can store (no NUL or unpaired surrogate, at most MAX_ID_LENGTH characters), which
 * callers treat as an unknown id.
 */
export function decodeAnyGlobalId(globalId: string): { typename: string; id: string } | null {
  if (typeof globalId !== "string" || globalId.length > 4 * MAX_ID_LENGTH) return null;
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    return null;
  }
  if (!decoded.id || decoded.id.length > MAX_ID_LENGTH || !isStorableText(decoded.id)) return null;
  return decoded;
}

/** Decodes a list of IDs of one type; a bad one is a ValidationError naming its position. */
export function fromGlobalIds(globalIds: readonly string[] | null | undefined, typename: string, path: string[]): string[] {
  return (globalIds ?? []).map((id, i) => {
    try {
      return fromGlobalId(id, typename);
    } catch {
      throw ValidationError.field([...path, String(i)], `Not a ${typename} id`);
    }
  });
}

export function toGlobalId(typename: string, id: string): string {
  return encodeGlobalID(typename, id);
}
