/**
 * Whether `slow` was still unanswered when `fast`, started after it, had its answer: how a test shows
 * that a simulator held an answer back (a latency fault) without asserting how long anything took.
 */
export async function heldBack<S, F>(
  slow: () => Promise<S>,
  fast: () => Promise<F>,
): Promise<{ held: boolean; slow: S; fast: F }> {
  let slowDone = false;
  const s = slow().then((v) => {
    slowDone = true;
    return v;
  });
  const f = await fast();
  const held = !slowDone;
  return { held, slow: await s, fast: f };
}
