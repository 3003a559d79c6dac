/**
 * The ring of an incoming call: a two-tone phone ring and a buzz, repeated until stopped. Browsers
 * play sound only after the user has touched the page; until then the phone just vibrates (where
 * it can) and the screen shows the call.
 */

import { audioContextClass, playTones, type Tone } from "@/tones";

/** One ring: [frequency Hz, start s, length s]; then silence until the next. */
export const RING_TONES: readonly Tone[] = [
  [880, 0, 0.4],
  [660, 0.45, 0.4],
  [880, 1.0, 0.4],
  [660, 1.45, 0.4],
];
export const RING_PERIOD_MS = 3_000;
export const RING_VIBRATION = [600, 300, 600];

/** What is played: the tones of one period, the period, and the buzz (none for a ringback). */
export interface RingPattern {
  tones: readonly Tone[];
  periodMs: number;
  vibration: number[];
}

export const RING: RingPattern = { tones: RING_TONES, periodMs: RING_PERIOD_MS, vibration: RING_VIBRATION };
/** The ringback the caller of an app call hears while it rings (450 Hz, 1 s on, 4 s off). */
export const RINGBACK: RingPattern = { tones: [[450, 0, 1]], periodMs: 5_000, vibration: [] };

export interface RingerDeps {
  pattern?: RingPattern;
  createContext?: () => AudioContext | null;
  vibrate?: (pattern: number[] | number) => boolean;
  setInterval?: typeof setInterval;
  clearInterval?: typeof clearInterval;
}

function defaultContext(): AudioContext | null {
  const Audio = audioContextClass();
  return Audio ? new Audio() : null;
}

/** Rings until `stop()`; safe to start and stop any number of times. */
export class Ringer {
  private context: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly deps: RingerDeps = {}) {}

  get ringing(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer !== null) return;
    const every = this.deps.setInterval ?? setInterval;
    this.once();
    this.timer = every(() => this.once(), (this.deps.pattern ?? RING).periodMs);
  }

  stop(): void {
    if (this.timer === null) return;
    (this.deps.clearInterval ?? clearInterval)(this.timer);
    this.timer = null;
    this.vibrate(0);
    const context = this.context;
    this.context = null;
    void context?.close().catch(() => undefined);
  }

  private once(): void {
    const buzz = (this.deps.pattern ?? RING).vibration;
    if (buzz.length) this.vibrate(buzz);
    try {
      this.tones();
    } catch {
      // No sound: the screen and the buzz still say a call is coming.
    }
  }

  private vibrate(pattern: number[] | number): void {
    try {
      const vibrate = this.deps.vibrate ?? ((p: number[] | number) => navigator.vibrate?.(p) ?? false);
      vibrate(pattern);
    } catch {
      // Not every browser vibrates.
    }
  }

  private tones(): void {
    this.context ??= (this.deps.createContext ?? defaultContext)();
    const context = this.context;
    if (!context) return;
    if (context.state === "suspended") void context.resume().catch(() => undefined);
    playTones(context, (this.deps.pattern ?? RING).tones, { wave: "sine", volume: 0.3, rampIn: 0.03 });
  }
}
