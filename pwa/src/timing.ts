/** How long typing pauses before a search box asks the server. */
export const SEARCH_DEBOUNCE_MS = 400;

/** A function that runs `fn` once calls have paused for `waitMs` (with the last call's arguments). */
export interface Debounced<A extends unknown[]> {
  (...args: A): void;
  /** Forget a pending call. */
  cancel(): void;
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, waitMs: number): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const debounced = (...args: A): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, waitMs);
  };
  debounced.cancel = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return debounced;
}
