import { ApiError } from "@/api/client";
import type { DoorOpenResult } from "@/api/types";
import { describeError } from "@/errors";
import { i18n } from "@/i18n";

/** A Vant tag colour: green for a pass, red for a refusal, orange for a door that failed. */
export type Tone = "success" | "danger" | "warning" | "default";

const RESULT_TONES: Record<string, Tone> = { granted: "success", denied: "danger", failed: "warning" };

/** A known code's label in the current language, else the code itself (new codes still show). */
function labelOf(group: string, code: string): string {
  const { t, te } = i18n.global;
  const key = `${group}.${code}`;
  return te(key) ? t(key) : code;
}

/** 手机开门, 刷卡, 二维码, 密码, 人脸, 远程. */
export function accessMethodLabel(method: string): string {
  return labelOf("access.methods", method);
}

/** 通过, 拒绝, 失败. */
export function accessResultLabel(result: string): string {
  return labelOf("access.results", result);
}

export function accessResultTone(result: string): Tone {
  return RESULT_TONES[result] ?? "default";
}

/** 进 / 出. */
export function directionLabel(direction: string): string {
  return labelOf("access.directions", direction);
}

/** 大门 for the community gates, 单元门 for a building's unit door. */
export function doorRoleLabel(role: string): string {
  const { t, te } = i18n.global;
  return te(`doors.roles.${role}`) ? t(`doors.roles.${role}`) : t("doors.roles.door");
}

// The server gives its reasons in English words; these are the ones a resident may see.
const REASON_KEYS: Record<string, string> = {
  "not your community": "doors.reasons.notYourCommunity",
  "not your building's door": "doors.reasons.notYourBuilding",
  "bridge offline": "errors.bridge_offline",
};

/** Why a door stayed shut, in the current language; "" when there is nothing to say. */
export function doorReason(reason: string, result: string): string {
  const { t } = i18n.global;
  if (!reason) return result === "failed" ? t("doors.failed") : "";
  const key = REASON_KEYS[reason];
  if (key) return t(key);
  if (reason.startsWith("timeout")) return t("doors.reasons.timeout");
  return result === "failed" ? t("doors.failed") : reason;
}

/** What tapping 开门 came to: opened or not, and the sentence to show. */
export interface DoorOutcome {
  ok: boolean;
  message: string;
}

export function doorOutcome(result: DoorOpenResult): DoorOutcome {
  if (result.result === "granted") return { ok: true, message: i18n.global.t("doors.success") };
  // A grant the door did not carry out raised the door alarm: the resident knows help is coming.
  if (result.guards_notified) return { ok: false, message: i18n.global.t("doors.notOpenedGuardsNotified") };
  return { ok: false, message: doorReason(result.reason, result.result) || i18n.global.t("doors.failed") };
}

/** A refused or failed call to open a door: the refusal's reason when the server gave a known one. */
export function doorError(err: unknown): DoorOutcome {
  if (err instanceof ApiError && err.code === "door_not_entitled") {
    const known = REASON_KEYS[err.message];
    return { ok: false, message: known ? i18n.global.t(known) : i18n.global.t("errors.door_not_entitled") };
  }
  return { ok: false, message: describeError(err) };
}

/** Kinds of access point, in the order lists offer them. */
export const ACCESS_KINDS = ["gate", "unit_door", "turnstile", "lift", "key_room"] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];
/** The kinds a guard opens from the desk (a lift is called, not opened). */
export const DOOR_KINDS = ["gate", "unit_door", "turnstile", "key_room"] as const;
/** The shortest reason the server takes for a remote open, a release or a revocation. */
export const REASON_MIN = 2;

/** 大门, 单元门, 闸机, 电梯, 重点房间. */
export function accessKindLabel(kind: string): string {
  return labelOf("access.kinds", kind);
}

/** Why a reader refused (the bridge's reason codes), in the current language. */
export function deniedReasonLabel(reason: string): string {
  return labelOf("access.denied", reason);
}

/** The access log's filters as the manager sets them (times as `datetime-local` text). */
export interface AccessLogFilters {
  since: string;
  until: string;
  pointId: string;
  method: string;
  result: "" | "granted" | "denied" | "failed";
  direction: "" | "in" | "out";
  personId: string;
}

export function emptyLogFilters(): AccessLogFilters {
  return { since: "", until: "", pointId: "", method: "", result: "", direction: "", personId: "" };
}

/** The methods the log can be filtered by (the bridge's and the app's). */
export const ACCESS_METHODS = ["card", "pin", "qr", "face", "code", "app", "remote"] as const;

/** The query of `GET /access-records` (and of its CSV) for the filters: only what is set, times zoned. */
export function accessLogQuery(filters: AccessLogFilters) {
  const at = (value: string) => (value ? new Date(value).toISOString() : undefined);
  const since = at(filters.since);
  const until = at(filters.until);
  return {
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(filters.pointId ? { point_id: filters.pointId } : {}),
    ...(filters.method ? { method: filters.method } : {}),
    ...(filters.result ? { result: filters.result } : {}),
    ...(filters.direction ? { direction: filters.direction } : {}),
    ...(filters.personId ? { person_id: filters.personId } : {}),
  };
}

/** The CSV export's address for the same filters (the browser downloads it with the session cookie). */
export function accessLogCsvUrl(filters: AccessLogFilters): string {
  const params = new URLSearchParams(accessLogQuery(filters));
  const query = params.toString();
  return `/api/v1/access-records.csv${query ? `?${query}` : ""}`;
}

/** The filters' own problem: a time range that runs backwards (an i18n key, or ""). */
export function logFiltersProblem(filters: AccessLogFilters): string {
  if (filters.since && filters.until && new Date(filters.until) <= new Date(filters.since)) {
    return "access.log.rangeInvalid";
  }
  return "";
}

/** How many filters are set (the badge on 筛选). */
export function activeFilterCount(filters: AccessLogFilters): number {
  return Object.values(filters).filter(Boolean).length;
}

/** Lift floors as typed ("1-18", "1,3,5", "-2-3"): the sorted floors, or null when not understood. */
export function parseFloors(text: string): number[] | null {
  const floors = new Set<number>();
  for (const part of text.split(/[,，、\s]+/).filter(Boolean)) {
    const range = /^(-?\d+)(?:[-~～](-?\d+))?$/.exec(part);
    if (!range) return null;
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (to < from || to - from > 200 || from < -10 || to > 200) return null;
    for (let floor = from; floor <= to; floor += 1) floors.add(floor);
  }
  return [...floors].sort((a, b) => a - b);
}

/** Floors written back the short way: [1,2,3,5] → "1-3,5". */
export function formatFloors(floors: readonly number[]): string {
  const sorted = [...new Set(floors)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j += 1;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** One weekly window of a schedule, as the server takes it. */
export interface WeeklyWindow {
  days: number[];
  start: string;
  end: string;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** Whether a window can be saved: some days, well-formed times that differ (end before start: overnight). */
export function windowValid(window: WeeklyWindow): boolean {
  return window.days.length > 0 && HHMM.test(window.start) && HHMM.test(window.end) && window.start !== window.end;
}

/** "一至五 08:00–18:00" / "Mo–Fr 08:00–18:00": a window in a line. */
export function describeWindow(window: WeeklyWindow): string {
  const { t } = i18n.global;
  const days = [...window.days].sort((a, b) => a - b);
  const consecutive = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1]! + 1);
  const dayText = consecutive
    ? `${t(`access.schedules.days.d${days[0]}`)}–${t(`access.schedules.days.d${days.at(-1)}`)}`
    : days.map((d) => t(`access.schedules.days.d${d}`)).join(" ");
  return `${dayText} ${window.start}–${window.end}`;
}

/** Card numbers as readers give them; PINs of 4 to 8 digits (what the server stores and the keypads take). */
export function credentialValueProblem(kind: string, value: string): string {
  if (kind === "card") return /^[A-Za-z0-9]{4,32}$/.test(value.trim()) ? "" : "access.credentials.cardInvalid";
  if (kind === "pin") return /^\d{4,8}$/.test(value) ? "" : "access.credentials.pinInvalid";
  if (kind === "fingerprint") {
    return /^[\x21-\x7e]{4,32}$/.test(value.trim()) ? "" : "access.credentials.fingerprintInvalid";
  }
  return "";
}

/** Add a value to a list of chosen ones, or take it out if it is there (a tapped checkbox row). */
export function toggle<T>(chosen: T[], value: T): void {
  const at = chosen.indexOf(value);
  if (at >= 0) chosen.splice(at, 1);
  else chosen.push(value);
}
