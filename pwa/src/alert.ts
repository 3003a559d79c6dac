import { ref } from "vue";

/**
 * The sound and buzz of a new alarm. Browsers let a page make sound only after the user has
 * interacted with it, so the audio context is created (or resumed) inside the first tap.
 */

let context: AudioContext | null = null;
/** Whether a new alarm can be heard (the user has tapped the page since it loaded). */
export const soundReady = ref(false);

type AudioContextClass = typeof AudioContext;

function audioClass(): AudioContextClass | null {
  const w = window as unknown as { AudioContext?: AudioContextClass; webkitAudioContext?: AudioContextClass };
  return w.AudioContext ?? w.webkitAudioContext ?? null;
}

/** Create or resume the audio context; call from a user gesture. */
export function unlockSound(): void {
  const Audio = audioClass();
  if (!Audio) return;
  try {
    context ??= new Audio();
    if (context.state === "suspended") void context.resume();
    soundReady.value = context.state !== "closed";
  } catch {
    soundReady.value = false;
  }
}

/** Unlock the sound on the first tap or key anywhere in the app. */
export function armSoundOnFirstGesture(): void {
  const unlock = (): void => {
    unlockSound();
    if (soundReady.value) {
      window.removeEventListener("pointerdown", unlock, true);
      window.removeEventListener("keydown", unlock, true);
    }
  };
  window.addEventListener("pointerdown", unlock, true);
  window.addEventListener("keydown", unlock, true);
}

/** The beeps of an alarm: more and higher for a more severe one. [frequency Hz, start s, length s]. */
export function beepPattern(severity: string): Array<[number, number, number]> {
  switch (severity) {
    case "critical":
      return [
        [1175, 0, 0.16],
        [880, 0.2, 0.16],
        [1175, 0.4, 0.16],
        [880, 0.6, 0.16],
      ];
    case "high":
      return [
        [988, 0, 0.18],
        [988, 0.26, 0.18],
      ];
    default:
      return [[784, 0, 0.22]];
  }
}

/** The vibration of an alarm (ms on, off, on …). */
export function vibrationPattern(severity: string): number[] {
  return severity === "critical" || severity === "high" ? [300, 120, 300, 120, 300] : [200];
}

function beep(severity: string): void {
  if (!context || context.state !== "running") return;
  const start = context.currentTime + 0.02;
  for (const [frequency, at, length] of beepPattern(severity)) {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = frequency;
    // A short ramp in and out: no clicks.
    gain.gain.setValueAtTime(0.0001, start + at);
    gain.gain.exponentialRampToValueAtTime(0.25, start + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + at + length);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start + at);
    oscillator.stop(start + at + length + 0.02);
  }
}

/** Sound and vibrate for a new alarm, as far as the browser allows. */
export function alertNewAlarm(severity: string): void {
  try {
    beep(severity);
  } catch {
    // No sound: the row still flashes.
  }
  try {
    navigator.vibrate?.(vibrationPattern(severity));
  } catch {
    // Not every browser vibrates.
  }
}
