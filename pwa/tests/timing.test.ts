import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { debounce } from "@/timing";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("debounce", () => {
  it("runs once, with the last arguments, after the calls pause", () => {
    const fn = vi.fn();
    const soon = debounce(fn, 1_000);
    soon(1);
    vi.advanceTimersByTime(600);
    soon(2);
    vi.advanceTimersByTime(999);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledExactlyOnceWith(2);
  });

  it("forgets a pending call when cancelled", () => {
    const fn = vi.fn();
    const soon = debounce(fn, 1_000);
    soon();
    soon.cancel();
    vi.advanceTimersByTime(5_000);
    expect(fn).not.toHaveBeenCalled();
  });
});
