import { ref } from "vue";
import { audioContextClass, playTones, type Tone } from "@/tones";

/**
 * The sound and buzz of a new alarm. Browsers let a page make sound only after the user has
 * interacted with it, so the audio context is created (or resumed) inside the first tap.
 */

let context: AudioContext | null = null;
/** Whether a new alarm can be heard (the user has tapped the page since it loaded). */
export const soundReady = ref(false);

/** Create or resume the audio context; call from a user gesture. */
export function unlockSound(): void {
  const Audio = audioContextClass();
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
export function beepPattern(severity: string): Tone[] {
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
  if (context) playTones(context, beepPattern(severity), { wave: "square", volume: 0.25, rampIn: 0.02 });
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
