/**
 * 关怀模式 (elder-friendly mode): which actions the simple home shows and what the app says aloud.
 * Pure rules; the setting and the speaking live in stores/elder.ts, the look in elder.css.
 */
import type { RouteLocationRaw } from "vue-router";
import type { DoorOutcome } from "@/access";
import type { Role } from "@/api/types";
import type { AppLocale } from "@/i18n";
import { capabilitiesFor, capabilityTarget } from "@/roles";

/** Where this device remembers the mode ("1" on, anything else off). */
export const ELDER_STORAGE_KEY = "anju.elder";

/** The four biggest actions, in the order the elder home shows them. */
export const ELDER_ACTIONS = ["open_door", "sos", "visitors", "calls"] as const;
export type ElderActionKey = (typeof ELDER_ACTIONS)[number];

export interface ElderAction {
  key: ElderActionKey;
  /** The button's text, an i18n key. */
  label: string;
  icon: string;
  /** Where the button leads; SOS has none: it asks to confirm on the spot. */
  to?: RouteLocationRaw;
}

const LABELS: Record<ElderActionKey, string> = {
  open_door: "cap.open_door",
  sos: "sos.button",
  visitors: "cap.visitors",
  calls: "cap.calls",
};

export function storedElder(value: string | null): boolean {
  return value === "1";
}

/** Whether the home shows the elder layout: the mode is on and the user acts as a resident. */
export function showsElderHome(on: boolean, role: Role | null): boolean {
  return on && role === "resident";
}

/** The elder home's buttons for a role: a resident's four actions, of those the role has built. */
export function elderActions(role: Role | null): ElderAction[] {
  if (role !== "resident") return [];
  const capabilities = capabilitiesFor(role);
  return ELDER_ACTIONS.flatMap((key): ElderAction[] => {
    if (key === "sos") return [{ key, label: LABELS[key], icon: "warning-o" }];
    const capability = capabilities.find((c) => c.key === key && c.page);
    return capability ? [{ key, label: LABELS[key], icon: capability.icon, to: capabilityTarget(capability) }] : [];
  });
}

/** What the app says aloud in elder mode. */
export type Spoken =
  | { kind: "elder-on" }
  | { kind: "door"; outcome: DoorOutcome }
  | { kind: "sos-ask" }
  | { kind: "sos-sent" }
  | { kind: "sos-failed" };

/** The sentence for an event; `t` is the app's translate function. */
export function speechFor(event: Spoken, t: (key: string) => string): string {
  switch (event.kind) {
    case "elder-on":
      return t("elder.say.on");
    case "door":
      // The message the screen shows: 门已打开, or why the door stayed shut.
      return event.outcome.message;
    case "sos-ask":
      return t("elder.say.sosAsk");
    case "sos-sent":
      return t("elder.say.sosSent");
    case "sos-failed":
      return t("elder.say.sosFailed");
  }
}

/** The voice's language for the app's language. */
export function speechLang(locale: AppLocale): string {
  return locale === "en" ? "en-US" : "zh-CN";
}
