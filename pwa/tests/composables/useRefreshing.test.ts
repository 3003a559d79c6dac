import { describe, expect, it, vi } from "vitest";
import { effectScope } from "vue";
import {
  type Clock,
  localExpiry,
  QR_TIMING,
  Refresher,
  refreshDelay,
  secondsUntil,
  useRefreshing,
} from "@/composables/useRefreshing";

const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

/** Time that moves only when the test says, with the timers due by then. */
class FakeClock implements Clock {
  time = T0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.next;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((timer) => timer.id !== id);
  };
  get pending(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = due.at;
      due.fn();
      await flush();
    }
    this.time = end;
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

/** A QR endpoint that hands out numbered tokens valid for `lifetimeMs` by the server's clock. */
function qrServer(clock: FakeClock, { lifetimeMs = 60_000, skewMs = 0 } = {}) {
  let issued = 0;
  const load = vi.fn(async () => {
    issued += 1;
    return { token: `AJ1:${issued}`, expires_at: iso(clock.now() + skewMs + lifetimeMs) };
  });
  return { load };
}

function refresher(clock: FakeClock, load: () => Promise<{ token: string; expires_at: string }>) {
  const seen: string[] = [];
  const errors: unknown[] = [];
  const r = new Refresher({
    load,
    expiresAt: (v) => v.expires_at,
    onValue: (v) => seen.push(v.token),
    onError: (err) => errors.push(err),
    clock,
  });
  return { r, seen, errors };
}

describe("timing", () => {
  it("trusts the server's lifetime, clamped to a minute, whatever this phone's clock says", () => {
    expect(localExpiry(iso(T0 + 45_000), T0)).toBe(T0 + 45_000);
    // The phone's clock is 5 minutes behind: the code still lives a minute at most.
    expect(localExpiry(iso(T0 + 5 * 60_000 + 60_000), T0)).toBe(T0 + 60_000);
    // Ahead: an expiry "in the past" is due now.
    expect(localExpiry(iso(T0 - 30_000), T0)).toBe(T0);
    expect(localExpiry("garbage", T0)).toBe(T0);
  });

  it("refreshes ten seconds before expiry, never sooner than five seconds from now", () => {
    expect(refreshDelay(T0 + 60_000, T0)).toBe(50_000);
    expect(refreshDelay(T0 + 12_000, T0)).toBe(QR_TIMING.minDelayMs);
    expect(refreshDelay(T0, T0)).toBe(QR_TIMING.minDelayMs);
  });

  it("counts whole seconds down to zero", () => {
    expect(secondsUntil(T0 + 50_000, T0)).toBe(50);
    expect(secondsUntil(T0 + 49_001, T0)).toBe(50);
    expect(secondsUntil(T0 + 49_000, T0)).toBe(49);
    expect(secondsUntil(T0 - 1, T0)).toBe(0);
  });
});

describe("Refresher", () => {
  it("shows a new code before the old one expires, again and again", async () => {
    const clock = new FakeClock();
    const server = qrServer(clock);
    const { r, seen } = refresher(clock, server.load);
    r.start();
    await flush();
    expect(seen).toEqual(["AJ1:1"]);
    await clock.advance(49_999);
    expect(seen).toEqual(["AJ1:1"]);
    await clock.advance(1);
    expect(seen).toEqual(["AJ1:1", "AJ1:2"]);
    await clock.advance(100_000);
    expect(seen).toEqual(["AJ1:1", "AJ1:2", "AJ1:3", "AJ1:4"]);
    r.stop();
    expect(clock.pending).toBe(0);
  });

  it("does not loop when the server's expiries look past to this phone", async () => {
    const clock = new FakeClock();
    const server = qrServer(clock, { skewMs: -120_000 });
    const { r, seen } = refresher(clock, server.load);
    r.start();
    await flush();
    await clock.advance(20_000);
    // Every five seconds at most, not a tight loop.
    expect(seen.length).toBe(5);
    r.stop();
  });

  it("reports a failure and tries again", async () => {
    const clock = new FakeClock();
    const server = qrServer(clock);
    const failing = vi.fn().mockRejectedValueOnce(new Error("offline")).mockImplementation(server.load);
    const { r, seen, errors } = refresher(clock, failing);
    r.start();
    await flush();
    expect(errors).toHaveLength(1);
    expect(seen).toEqual([]);
    await clock.advance(QR_TIMING.retryMs);
    expect(seen).toEqual(["AJ1:1"]);
    r.stop();
  });

  it("fetches nothing while paused and catches up on resume", async () => {
    const clock = new FakeClock();
    const server = qrServer(clock);
    const { r, seen } = refresher(clock, server.load);
    r.start();
    await flush();
    r.pause();
    await clock.advance(120_000);
    expect(seen).toEqual(["AJ1:1"]);
    r.resume();
    await flush();
    expect(seen).toEqual(["AJ1:1", "AJ1:2"]);
    r.stop();
  });

  it("resumes on schedule when the code is still fresh", async () => {
    const clock = new FakeClock();
    const server = qrServer(clock);
    const { r, seen } = refresher(clock, server.load);
    r.start();
    await flush();
    r.pause();
    await clock.advance(10_000);
    r.resume();
    await flush();
    expect(seen).toEqual(["AJ1:1"]);
    await clock.advance(40_000);
    expect(seen).toEqual(["AJ1:1", "AJ1:2"]);
    r.stop();
  });

  it("fetches at once when asked, and drops an answer that comes after stop", async () => {
    const clock = new FakeClock();
    const server = qrServer(clock);
    const { r, seen } = refresher(clock, server.load);
    r.start();
    await flush();
    await r.refreshNow();
    expect(seen).toEqual(["AJ1:1", "AJ1:2"]);
    let answer: (value: { token: string; expires_at: string }) => void = () => {};
    server.load.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    void r.refreshNow();
    r.stop();
    answer({ token: "late", expires_at: iso(clock.now() + 60_000) });
    await flush();
    expect(seen).toEqual(["AJ1:1", "AJ1:2"]);
    expect(clock.pending).toBe(0);
  });

  it("stops refreshing a value that does not expire (an ended pass has no code)", async () => {
    const clock = new FakeClock();
    const values: unknown[] = [];
    const r = new Refresher({
      load: async () => ({ status: "revoked", qr: null }),
      expiresAt: () => null,
      onValue: (v) => values.push(v),
      onError: () => {},
      clock,
    });
    r.start();
    await flush();
    expect(values).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});

describe("useRefreshing", () => {
  it("gives the value and the seconds to the next refresh, and stops with its scope", async () => {
    vi.useFakeTimers({ now: T0 });
    try {
      let issued = 0;
      const load = vi.fn(async () => ({ token: `t${++issued}`, expires_at: iso(Date.now() + 60_000) }));
      const scope = effectScope();
      const state = scope.run(() => useRefreshing(load, (v) => v.expires_at))!;
      await flush();
      expect(state.value.value?.token).toBe("t1");
      expect(state.secondsLeft.value).toBe(50);
      await vi.advanceTimersByTimeAsync(20_000);
      expect(state.secondsLeft.value).toBe(30);
      await vi.advanceTimersByTimeAsync(30_000);
      expect(state.value.value?.token).toBe("t2");
      expect(state.secondsLeft.value).toBe(50);
      scope.stop();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(load).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("Refresher giving up", () => {
  it("stops trying after a failure that will not go away", async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const load = vi.fn().mockRejectedValue(new Error("gone"));
    const r = new Refresher({
      load,
      expiresAt: () => null,
      onValue: () => {},
      onError: (err) => errors.push(err),
      retryable: () => false,
      clock,
    });
    r.start();
    await flush();
    await clock.advance(60_000);
    expect(load).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});
