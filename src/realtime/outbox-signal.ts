/**
 * Wakes the event dispatchers of this process right after a transaction that wrote outbox rows
 * commits, so live events go out in milliseconds instead of at the next poll. Dispatchers also
 * poll, which covers events written by other processes and anything a poke missed.
 */
const listeners = new Set<() => void>();

/** Call after the transaction that recorded events has committed. */
export function notifyOutbox(): void {
  for (const listener of listeners) listener();
}

/** Registers a dispatcher's wake-up; returns the unregister function. */
export function onOutboxNotified(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
