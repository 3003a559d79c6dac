import { computed, onScopeDispose, type Ref, ref, shallowRef } from "vue";
import { useNow } from "@/composables/useNow";

/** A dynamic QR code lives at most this long (device_bridge/protocol.py QR_MAX_VALIDITY). */
export const QR_MAX_MS = 60_000;

export interface RefreshTiming {
  /** Fetch a new one this long before the current one expires, so that the code shown is never stale. */
  leadMs: number;
  /** Never fetch again sooner than this (a server answering with past expiries must not loop). */
  minDelayMs: number;
  /** The longest lifetime believed; a phone whose clock runs behind would otherwise count too long. */
  maxLifetimeMs: number;
  /** After a failed fetch, try again after this. */
  retryMs: number;
}

export const QR_TIMING: RefreshTiming = { leadMs: 10_000, minDelayMs: 5_000, maxLifetimeMs: QR_MAX_MS, retryMs: 5_000 };

/**
 * When something that expires at `expiresAt` (the server's clock) expires on this phone's clock,
 * counted from `receivedAt`: the lifetime the server gave, clamped to [0, maxLifetimeMs], because
 * a phone's clock may be minutes off while the lifetime itself (≤ 60 s) is what matters.
 */
export function localExpiry(expiresAt: string, receivedAt: number, timing: RefreshTiming = QR_TIMING): number {
  const lifetime = Date.parse(expiresAt) - receivedAt;
  if (Number.isNaN(lifetime)) return receivedAt;
  return receivedAt + Math.min(timing.maxLifetimeMs, Math.max(0, lifetime));
}

/** How long to wait before fetching again: `leadMs` before expiry, never sooner than `minDelayMs`. */
export function refreshDelay(expiry: number, now: number, timing: RefreshTiming = QR_TIMING): number {
  return Math.max(timing.minDelayMs, expiry - timing.leadMs - now);
}

/** Whole seconds left until `at`, never below zero (what a countdown shows). */
export function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** What a Refresher needs of the world (so tests can hand it fake time). */
export interface Clock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface RefresherOptions<T> {
  load: () => Promise<T>;
  /** The server's expiry of what was loaded; null when it does not expire (nothing to refresh). */
  expiresAt: (value: T) => string | null;
  onValue: (value: T, expiry: number | null, refreshAt: number | null) => void;
  onError: (err: unknown) => void;
  /** Whether a failure is worth another try (a pass that is gone will not come back); default yes. */
  retryable?: (err: unknown) => boolean;
  timing?: RefreshTiming;
  clock?: Clock;
}

/**
 * Keeps a short-lived value (a dynamic QR code) fresh: loads it, and loads it again shortly
 * before it expires, for as long as it runs. A failure is reported and retried. While paused (the
 * page is hidden) nothing is fetched; resuming fetches at once if the value is due.
 */
export class Refresher<T> {
  private timer: unknown = null;
  private running = false;
  private paused = false;
  private inFlight = false;
  private dueAt: number | null = null;
  private generation = 0;
  private readonly timing: RefreshTiming;
  private readonly clock: Clock;

  constructor(private readonly options: RefresherOptions<T>) {
    this.timing = options.timing ?? QR_TIMING;
    this.clock = options.clock ?? REAL_CLOCK;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.fetch();
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    this.inFlight = false;
    this.clear();
  }

  /** Fetch now (the user asked for a new code, or the last one was used). */
  refreshNow(): Promise<void> {
    this.clear();
    return this.fetch();
  }

  pause(): void {
    this.paused = true;
    this.clear();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.running) return;
    if (this.dueAt === null || this.dueAt <= this.clock.now()) void this.fetch();
    else this.schedule(this.dueAt - this.clock.now());
  }

  private async fetch(): Promise<void> {
    if (!this.running || this.inFlight) return;
    const asked = ++this.generation;
    this.inFlight = true;
    try {
      const value = await this.options.load();
      if (asked !== this.generation || !this.running) return;
      const received = this.clock.now();
      const expiresAt = this.options.expiresAt(value);
      const expiry = expiresAt === null ? null : localExpiry(expiresAt, received, this.timing);
      this.dueAt = expiry === null ? null : received + refreshDelay(expiry, received, this.timing);
      this.options.onValue(value, expiry, this.dueAt);
      if (this.dueAt !== null) this.schedule(this.dueAt - received);
    } catch (err) {
      if (asked !== this.generation || !this.running) return;
      this.options.onError(err);
      if (this.options.retryable && !this.options.retryable(err)) {
        this.dueAt = null;
        return;
      }
      this.dueAt = this.clock.now() + this.timing.retryMs;
      this.schedule(this.timing.retryMs);
    } finally {
      if (asked === this.generation) this.inFlight = false;
    }
  }

  private schedule(ms: number): void {
    this.clear();
    if (this.paused) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.fetch();
    }, ms);
  }

  private clear(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * A short-lived value kept fresh while the calling component is mounted and the page is in view,
 * with the seconds left until it is replaced (for a countdown).
 */
export function useRefreshing<T>(
  load: () => Promise<T>,
  expiresAt: (value: T) => string | null,
  { timing = QR_TIMING, retryable }: { timing?: RefreshTiming; retryable?: (err: unknown) => boolean } = {},
): {
  value: Ref<T | null>;
  error: Ref<unknown>;
  expiry: Ref<number | null>;
  secondsLeft: Ref<number | null>;
  refreshNow: () => Promise<void>;
} {
  const value = shallowRef<T | null>(null) as Ref<T | null>;
  const error = shallowRef<unknown>(null);
  const expiry = ref<number | null>(null);
  const refreshAt = ref<number | null>(null);
  const now = useNow(1_000);
  const refresher = new Refresher<T>({
    load,
    expiresAt,
    timing,
    retryable,
    onValue: (loaded, until, due) => {
      value.value = loaded;
      error.value = null;
      expiry.value = until;
      refreshAt.value = due;
      now.value = Date.now();
    },
    onError: (err) => {
      error.value = err;
      refreshAt.value = null;
    },
  });
  const secondsLeft = computed(() => (refreshAt.value === null ? null : secondsUntil(refreshAt.value, now.value)));
  const onVisibility = (): void => {
    if (document.visibilityState === "hidden") refresher.pause();
    else refresher.resume();
  };
  document.addEventListener("visibilitychange", onVisibility);
  refresher.start();
  onScopeDispose(() => {
    document.removeEventListener("visibilitychange", onVisibility);
    refresher.stop();
  });
  return { value, error, expiry, secondsLeft, refreshNow: () => refresher.refreshNow() };
}
