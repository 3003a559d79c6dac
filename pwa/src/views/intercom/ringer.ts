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

export interface RingerDeps {
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
    this.timer = every(() => this.once(), RING_PERIOD_MS);
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
    this.vibrate(RING_VIBRATION);
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
    playTones(context, RING_TONES, { wave: "sine", volume: 0.3, rampIn: 0.03 });
  }
}
