/**
 * Short tones on the Web Audio API: an alarm's beeps and a call's ring. Browsers play sound only
 * after the user has touched the page, so a context made before that stays suspended.
 */

/** One tone: [frequency Hz, start s, length s], the start counted from when the tones begin. */
export type Tone = readonly [number, number, number];

type AudioContextClass = typeof AudioContext;

/** The browser's AudioContext (webkitAudioContext on older Safari), or null where there is none. */
export function audioContextClass(): AudioContextClass | null {
  const w = window as unknown as { AudioContext?: AudioContextClass; webkitAudioContext?: AudioContextClass };
  return w.AudioContext ?? w.webkitAudioContext ?? null;
}

/**
 * Play `tones` on a running context, each ramped in over `rampIn` s to `volume` and out by its end
 * (no clicks); nothing while the context is not running.
 */
export function playTones(
  context: AudioContext,
  tones: readonly Tone[],
  { wave, volume, rampIn }: { wave: OscillatorType; volume: number; rampIn: number },
): void {
  if (context.state !== "running") return;
  const start = context.currentTime + 0.02;
  for (const [frequency, at, length] of tones) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = wave;
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + at);
    gain.gain.exponentialRampToValueAtTime(volume, start + at + rampIn);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + at + length);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + at);
    oscillator.stop(start + at + length + 0.02);
  }
}
