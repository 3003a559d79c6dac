import type { Sos, SosCreate } from "@/api/types";

/** How long the SOS waits for the phone's position before sending without it. */
export const LOCATION_TIMEOUT_MS = 5_000;

export type SosLocation = NonNullable<SosCreate["location"]>;

/** The API's location from the browser's position (accuracy within what the API takes). */
export function toLocation(coords: Pick<GeolocationCoordinates, "latitude" | "longitude" | "accuracy">): SosLocation {
  const accuracy = Number.isFinite(coords.accuracy) ? Math.min(Math.max(coords.accuracy, 0), 100_000) : null;
  return { lat: coords.latitude, lon: coords.longitude, accuracy };
}

/**
 * The phone's position, or null when it is refused, unavailable or takes longer than `timeoutMs`
 * (the browser's own timeout does not count the time the permission prompt stays open).
 */
export function locate(
  timeoutMs: number = LOCATION_TIMEOUT_MS,
  geolocation: Geolocation | undefined = globalThis.navigator?.geolocation,
): Promise<SosLocation | null> {
  if (!geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const done = (value: SosLocation | null): void => {
      clearTimeout(timer);
      resolve(value);
    };
    try {
      geolocation.getCurrentPosition(
        (position) => done(toLocation(position.coords)),
        () => done(null),
        { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60_000 },
      );
    } catch {
      done(null);
    }
  });
}

/** What the resident's status screen says: sent, acknowledged, on the way, over. */
export type SosPhase = "sent" | "acknowledged" | "dispatched" | "resolved" | "falseAlarm";

export function sosPhase(sos: Pick<Sos, "state">): SosPhase {
  switch (sos.state) {
    case "new":
      return "sent";
    case "false_alarm":
      return "falseAlarm";
    default:
      return sos.state;
  }
}

export function sosOpen(sos: Pick<Sos, "state">): boolean {
  return sos.state !== "resolved" && sos.state !== "false_alarm";
}

/** The live event a resident gets when a guard acknowledges their SOS (on their own channel). */
export interface SosAcknowledged {
  type: "alarm.acknowledged";
  alarm_id: string;
  by: string;
  at: string;
  [field: string]: unknown;
}

export function isAcknowledgement(event: { type: string; [field: string]: unknown }, id: string): event is SosAcknowledged {
  return (
    event.type === "alarm.acknowledged" &&
    event.alarm_id === id &&
    typeof event.by === "string" &&
    typeof event.at === "string"
  );
}

/** The SOS as the event says it is now, before the next read confirms it (never going backwards). */
export function withAcknowledgement(sos: Sos, event: SosAcknowledged): Sos {
  if (sos.state !== "new") return sos.acknowledged_by ? sos : { ...sos, acknowledged_by: event.by, acknowledged_at: event.at };
  return {
    ...sos,
    state: "acknowledged",
    acknowledged_by: event.by,
    acknowledged_at: event.at,
    timeline: [...sos.timeline, { at: event.at, kind: "acknowledged", by: event.by, text: "" }],
  };
}
