import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { NotFoundError, ValidationError } from "../services/errors.js";

/**
 * Decodes a global ID of the expected type, the one place IDs are decoded. A malformed ID or an
 * ID of another type is a NotFoundError, exactly like a missing or foreign one.
 */
export function fromGlobalId(globalId: string, typename: string): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw new NotFoundError(typename, globalId);
  }
  if (decoded.typename !== typename || !decoded.id) throw new NotFoundError(typename, globalId);
  return decoded.id;
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
