/**
 * The intercom in words and numbers: how a call ended, how long it lasted, what a live event says.
 * No Vue, no network: the call store and the screens build on these.
 */
import { ApiError } from "@/api/client";
import type { IceServer } from "@/composables/useWebRtc";
import type { LiveEvent } from "@/composables/useLiveEvents";
import { describeError } from "@/errors";
import { i18n } from "@/i18n";

/** A ringing call as the live channel announces it (`call.incoming`) or the call record says. */
export interface IncomingCall {
  id: string;
  station: string;
  doorName: string | null;
  target: "household" | "guard_room";
  reason: string;
  householdLabel: string | null;
  startedAt: string;
  /** Placed in the app (the guard room calling, or a resident calling the guard room): no station. */
  fromApp?: boolean;
}

/** How a call's screen ended, from this phone's point of view. */
export type CallEnd =
  | "answered_elsewhere" // another member (or guard) picked up first
  | "declined_elsewhere" // another member declined it for the household
  | "remote_hangup" // the visitor (the station) hung up
  | "hangup" // this phone hung up
  | "declined" // this phone declined
  | "limit" // the longest call allowed is over
  | "network" // the connection dropped
  | "missed" // nobody answered before the station stopped ringing
  | "no_answer" // this phone's own call: nobody answered it
  | "cancelled" // a call placed in the app: the caller gave up before it was answered
  | "rejected" // this phone's own call: the other side declined it
  | "failed"; // the call could not be connected

/** `call.incoming` from the live channel, or null for any other (or malformed) event. */
export function incomingCall(event: LiveEvent): IncomingCall | null {
  if (event.type !== "call.incoming" || typeof event.call_id !== "string") return null;
  const text = (value: unknown): string | null => (typeof value === "string" && value ? value : null);
  return {
    id: event.call_id,
    station: text(event.station) ?? "",
    doorName: text(event.door_name),
    target: event.target === "guard_room" ? "guard_room" : "household",
    reason: text(event.reason) ?? "visitor",
    householdLabel: text(event.household_label),
    startedAt: text(event.started_at) ?? new Date().toISOString(),
    fromApp: event.from_app === true,
  };
}

/** `call.offer`: whoever answered this phone's own call, offering media (answered with `connect`). */
export interface CallOffer {
  id: string;
  sdp: string;
  maxDurationS: number;
  iceServers: IceServer[];
  by: string | null;
}

export function callOffer(event: LiveEvent): CallOffer | null {
  if (event.type !== "call.offer" || typeof event.call_id !== "string" || typeof event.sdp !== "string") return null;
  return {
    id: event.call_id,
    sdp: event.sdp,
    maxDurationS: typeof event.max_duration_s === "number" ? event.max_duration_s : 90,
    iceServers: Array.isArray(event.ice_servers) ? (event.ice_servers as IceServer[]) : [],
    by: typeof event.by === "string" && event.by ? event.by : null,
  };
}

/** What a `call.ended` means for the phone that placed the call (still calling, or talking). */
export function endForCaller(ended: CallEnded, talking: boolean): CallEnd {
  switch (ended.outcome) {
    case "declined":
      return "rejected";
    case "limit":
      return "limit";
    case "network":
      return "network";
    case "unanswered":
      return talking ? "remote_hangup" : "no_answer";
    default:
      return "remote_hangup";
  }
}

/** `call.ended` from the live channel: the call, the platform's outcome and who ended it (a name). */
export interface CallEnded {
  id: string;
  outcome: string;
  by: string | null;
}

export function endedCall(event: LiveEvent): CallEnded | null {
  if (event.type !== "call.ended" || typeof event.call_id !== "string") return null;
  return {
    id: event.call_id,
    outcome: typeof event.outcome === "string" ? event.outcome : "",
    by: typeof event.by === "string" && event.by ? event.by : null,
  };
}

/**
 * What a `call.ended` means for a phone that was still ringing (`answering` false) or had answered.
 * Only the member who answered can hang up, so a hang-up by a name while answering was this phone.
 */
export function endFor(ended: CallEnded, answering: boolean): CallEnd {
  switch (ended.outcome) {
    case "answered_elsewhere":
      return "answered_elsewhere";
    case "declined":
      return answering ? "remote_hangup" : "declined_elsewhere";
    case "limit":
      return "limit";
    case "network":
      return "network";
    case "hangup":
      return answering && ended.by ? "hangup" : "remote_hangup";
    case "unanswered":
      return answering ? "remote_hangup" : "missed";
    default:
      return answering ? "remote_hangup" : "missed";
  }
}

/** An answer refused by the platform: taken by someone else, over already, or something else. */
export function endForAnswerError(err: unknown): CallEnd {
  if (err instanceof ApiError) {
    if (err.code === "call_taken") return "answered_elsewhere";
    if (err.code === "call_not_ringing") return "missed";
  }
  return "failed";
}

/** 0:07, 1:30, 12:05 — a running call's clock. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** 45秒, 1分30秒 — how long a past call lasted. */
export function durationLabel(seconds: number | null | undefined): string {
  const { t } = i18n.global;
  const s = Math.max(0, Math.round(seconds ?? 0));
  const m = Math.floor(s / 60);
  return m ? t("intercom.minutesSeconds", { m, s: s % 60 }) : t("intercom.seconds", { s });
}

/** 已接听, 未接听, 已拒接 … for a call record's outcome (or its state while not over). */
export function outcomeLabel(state: string, outcome: string): string {
  const { t, te } = i18n.global;
  const key = state === "ended" ? `intercom.outcomes.${outcome}` : `intercom.states.${state}`;
  return te(key) ? t(key) : outcome || state;
}

/** A tag colour for a call record: missed calls stand out, answered ones are calm. */
export function outcomeTone(state: string, outcome: string): "primary" | "success" | "danger" | "warning" | "default" {
  if (state !== "ended") return "primary";
  if (outcome === "unanswered") return "danger";
  if (outcome === "network" || outcome === "limit") return "warning";
  if (outcome === "hangup" || outcome === "answered") return "success";
  return "default";
}

/** The sentence of an ended call's screen. */
export function endLabel(end: CallEnd, by: string | null = null): string {
  const { t } = i18n.global;
  if (end === "answered_elsewhere" && by) return t("intercom.ended.answeredBy", { name: by });
  if (end === "declined_elsewhere" && by) return t("intercom.ended.declinedBy", { name: by });
  return t(`intercom.ended.${end}`);
}

/** Why an intercom request failed, in the user's language (intercom's own codes first). */
export function intercomError(err: unknown): string {
  const { t, te } = i18n.global;
  if (err instanceof ApiError && te(`intercom.errors.${err.code}`)) return t(`intercom.errors.${err.code}`);
  return describeError(err);
}
