import { reactive } from "vue";

/**
 * What a screen reader should say about a live change (an incoming call, an alarm raised or
 * acknowledged). `assertive` interrupts; `polite` waits for a pause. The app keeps one live region of
 * each kind (LiveAnnouncer.vue, mounted once in App.vue); screens call `announce()`.
 */
export type Politeness = "polite" | "assertive";

export interface LiveText {
  polite: string;
  assertive: string;
}

/** A no-break space toggled onto a repeat, so a region changes even when the words do not. */
const NUDGE = "\u00a0";

/**
 * The region texts after announcing `message`: the region of its politeness gets it (a repeat of
 * what it says now gets a trailing nudge, else a screen reader would stay silent); blank messages
 * change nothing.
 */
export function nextLiveText(current: LiveText, message: string, politeness: Politeness): LiveText {
  const text = message.trim();
  if (!text) return current;
  const said = current[politeness];
  const next = said === text ? text + NUDGE : text;
  return { ...current, [politeness]: next };
}

/** The texts the live regions show now. */
export const liveText = reactive<LiveText>({ polite: "", assertive: "" });

/** Have screen readers say `message` (see `Politeness`). */
export function announce(message: string, politeness: Politeness = "polite"): void {
  Object.assign(liveText, nextLiveText(liveText, message, politeness));
}
