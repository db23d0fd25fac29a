/** Polls `check` until it stops throwing (background workers run meanwhile); fails after 15 s. */
export async function eventually<T>(check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 30));
    }
  }
}
