import { ApiError } from "@/api/client";
import type { Alarm, AlarmState, AlarmType, Severity } from "@/api/types";
import { describeError } from "@/errors";
import { i18n } from "@/i18n";
import type { Paged } from "@/composables/usePagedList";

/** Every alarm type of the API (api/alarms/catalogue.py), in the order people think of them. */
export const ALARM_TYPES = [
  "sos",
  "fire",
  "gas",
  "intrusion",
  "perimeter",
  "door_forced",
  "door_held_open",
  "door_unauthorized",
  "door_close_timeout",
  "door_open_failed",
  "water_leak",
  "temperature",
  "tamper",
  "line_crossing",
  "falling_object",
  "ebike_in_lift",
  "loitering",
  "watchlist",
  "video_loss",
  "device_offline",
] as const satisfies readonly AlarmType[];

export const SEVERITIES = ["low", "medium", "high", "critical"] as const satisfies readonly Severity[];

export const ALARM_STATES = [
  "new",
  "acknowledged",
  "dispatched",
  "resolved",
  "false_alarm",
] as const satisfies readonly AlarmState[];

/** The board's chips: 未处理, 处理中 (acknowledged or dispatched), 已结束 (resolved or a false alarm). */
export const ALARM_FILTERS = ["new", "active", "closed"] as const;
export type AlarmFilter = (typeof ALARM_FILTERS)[number];

export const FILTER_STATES: Record<AlarmFilter, readonly AlarmState[]> = {
  new: ["new"],
  active: ["acknowledged", "dispatched"],
  closed: ["resolved", "false_alarm"],
};

/** Each chip's number from the API's count of every state (`GET /api/v1/alarms/counts`). */
export function filterCounts(byState: Readonly<Record<AlarmState, number>>): Record<AlarmFilter, number> {
  const sum = (filter: AlarmFilter) => FILTER_STATES[filter].reduce((n, state) => n + byState[state], 0);
  return { new: sum("new"), active: sum("active"), closed: sum("closed") };
}

/** The chip an alarm of this state is listed under. */
export function filterOf(state: AlarmState): AlarmFilter {
  return ALARM_FILTERS.find((filter) => FILTER_STATES[filter].includes(state)) ?? "new";
}

export function isOpen(state: AlarmState): boolean {
  return filterOf(state) !== "closed";
}

/** What a guard may do to an alarm; `false_alarm` is the API's `false-alarm`. */
export const ALARM_ACTIONS = ["acknowledge", "dispatch", "resolve", "false_alarm"] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

/** The states each action may start from (the server's state machine; anything else is 409). */
const ACTION_FROM: Record<AlarmAction, readonly AlarmState[]> = {
  acknowledge: ["new"],
  dispatch: ["acknowledged"],
  resolve: ["acknowledged", "dispatched"],
  false_alarm: ["acknowledged", "dispatched"],
};

/** The buttons the alarm's detail offers in this state, most likely first. */
export function allowedActions(state: AlarmState): AlarmAction[] {
  return ALARM_ACTIONS.filter((action) => ACTION_FROM[action].includes(state));
}

/** The path segment of an action: POST /api/v1/alarms/{id}/<segment>. */
export function actionPath(action: AlarmAction): "acknowledge" | "dispatch" | "resolve" | "false-alarm" {
  return action === "false_alarm" ? "false-alarm" : action;
}

/** Severity, highest first (for sorting and for how loud a new alarm is). */
export function severityRank(severity: string): number {
  const rank = SEVERITIES.indexOf(severity as Severity);
  return rank < 0 ? 0 : rank;
}

/** A known code's label in the current language, else the code itself (new codes still show). */
function labelOf(group: string, code: string): string {
  const { t, te } = i18n.global;
  const key = `${group}.${code}`;
  return te(key) ? t(key) : code;
}

/** 入侵报警, 火警, 紧急求助, … */
export function alarmTypeLabel(type: string): string {
  return labelOf("alarms.types", type);
}

/** 低, 中, 高, 紧急. */
export function severityLabel(severity: string): string {
  return labelOf("alarms.severities", severity);
}

/** 未处理, 已确认, 已派警, 已处理, 误报. */
export function alarmStateLabel(state: string): string {
  return labelOf("alarms.states", state);
}

/** 确认, 派警, 处理完成, 误报. */
export function actionLabel(action: AlarmAction): string {
  return labelOf("alarms.actions", action);
}

/** What a step of an alarm's timeline was: 告警触发, 确认告警, 完成预案步骤, … */
export function timelineLabel(kind: string): string {
  return labelOf("alarms.timelineEntries", kind);
}

/** A Vant tag type for the state: red while nobody has it, orange while handled, grey when over. */
export function stateTone(state: AlarmState): "danger" | "warning" | "success" | "default" {
  switch (state) {
    case "new":
      return "danger";
    case "acknowledged":
    case "dispatched":
      return "warning";
    case "resolved":
      return "success";
    default:
      return "default";
  }
}

/** Where an alarm is, in one line: the server's place text, else its zone or device. */
export function alarmPlace(alarm: Pick<Alarm, "location" | "title">): string {
  const location = alarm.location ?? {};
  for (const key of ["text", "household", "zone", "device"]) {
    const value = location[key];
    if (typeof value === "string" && value) return value;
  }
  // The title is "<type label> · <place>".
  const [, ...rest] = alarm.title.split(" · ");
  return rest.join(" · ") || alarm.title;
}

/** One line of an alarm's location field, or "" (the server's `location` is free-form JSON). */
export function locationField(alarm: Pick<Alarm, "location">, key: string): string {
  const value = alarm.location?.[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

/** Within one instant, the order things happen in: raised, then who was told, then the rest. */
const KIND_ORDER: Record<string, number> = { raised: 0, repeated: 0, notified: 1 };

/** An alarm's timeline oldest first; entries of the same instant in the order they happen. */
export function chronological<T extends { at: string; kind: string }>(entries: readonly T[]): T[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort(
      (a, b) =>
        new Date(a.entry.at).getTime() - new Date(b.entry.at).getTime() ||
        (KIND_ORDER[a.entry.kind] ?? 2) - (KIND_ORDER[b.entry.kind] ?? 2) ||
        a.index - b.index,
    )
    .map(({ entry }) => entry);
}

/** Newest first, as the board lists them. */
export function newestFirst<T extends Pick<Alarm, "raised_at" | "id">>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => b.raised_at.localeCompare(a.raised_at) || b.id.localeCompare(a.id));
}

/** The rows once, in order, the first of each id winning (a live insert shifts later pages by one). */
export function uniqueById<T extends { id: string }>(rows: readonly T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => (seen.has(row.id) ? false : (seen.add(row.id), true)));
}

export type LiveChange = "inserted" | "updated" | "removed" | "ignored";

/**
 * What a live `{"type": "alarm", alarm}` does to the board showing `filter` (and only alarms of
 * `type`, when one is chosen): a row of the chip is inserted (newest first) or replaced; a row that
 * moved to another chip leaves.
 */
export function applyLiveAlarm(
  rows: readonly Alarm[],
  alarm: Alarm,
  filter: AlarmFilter,
  type: string | null = null,
): { rows: Alarm[]; change: LiveChange } {
  const index = rows.findIndex((row) => row.id === alarm.id);
  const belongs = filterOf(alarm.state) === filter && (type === null || alarm.type === type);
  if (index < 0) {
    return belongs ? { rows: newestFirst([alarm, ...rows]), change: "inserted" } : { rows: [...rows], change: "ignored" };
  }
  if (!belongs) return { rows: rows.filter((row) => row.id !== alarm.id), change: "removed" };
  const next = [...rows];
  next[index] = alarm;
  return { rows: next, change: "updated" };
}

/** A live event of the board, if this is one. */
export function liveAlarm(event: { type: string; [field: string]: unknown }): Alarm | null {
  if (event.type !== "alarm") return null;
  const alarm = event.alarm as Partial<Alarm> | undefined;
  return alarm && typeof alarm.id === "string" && typeof alarm.state === "string" ? (alarm as Alarm) : null;
}

/**
 * A paged fetcher over several states at once (the API filters by one state): page `p` of each
 * state, merged newest first. Pages of every state advance together, so nothing is skipped or
 * repeated; a page may hold up to `states.length × pageSize` rows.
 */
export function mergeStates<T extends Pick<Alarm, "raised_at" | "id">>(
  states: readonly AlarmState[],
  fetchState: (state: AlarmState, page: number, pageSize: number) => Promise<Paged<T>>,
): (page: number, pageSize: number) => Promise<Paged<T>> {
  return async (page, pageSize) => {
    const pages = await Promise.all(states.map((state) => fetchState(state, page, pageSize)));
    return {
      items: newestFirst(pages.flatMap((p) => p.items)),
      total: pages.reduce((sum, p) => sum + p.total, 0),
      page,
      page_size: pageSize,
    };
  };
}

/** Why an action on an alarm failed; a 409 says what state the alarm is in now. */
export function alarmActionError(err: unknown, action?: AlarmAction): string {
  const { t } = i18n.global;
  if (err instanceof ApiError && err.code === "alarm_transition_not_allowed") {
    const state = err.extra.state;
    if (typeof state === "string" && action) {
      return t("alarms.transitionRefused", { state: alarmStateLabel(state), action: actionLabel(action) });
    }
    return t("errors.alarm_transition_not_allowed");
  }
  return describeError(err);
}

const TYPE_ICONS: Record<AlarmType, string> = {
  sos: "phone-circle-o",
  fire: "fire-o",
  gas: "fire-o",
  temperature: "fire-o",
  intrusion: "shield-o",
  perimeter: "shield-o",
  line_crossing: "shield-o",
  tamper: "warn-o",
  door_forced: "lock",
  door_held_open: "lock",
  door_unauthorized: "lock",
  door_close_timeout: "lock",
  door_open_failed: "lock",
  access_failed_reads: "lock",
  access_passback: "lock",
  access_tailgating: "friends-o",
  vehicle_blacklisted: "logistics",
  barrier_open_failed: "logistics",
  barrier_unauthorized: "logistics",
  barrier_held_open: "logistics",
  barrier_close_failed: "logistics",
  patrol_missed: "guide-o",
  patrol_late: "guide-o",
  video_patrol_issue: "video-o",
  water_leak: "umbrella-circle",
  falling_object: "down",
  ebike_in_lift: "logistics",
  loitering: "user-circle-o",
  watchlist: "eye-o",
  video_loss: "video-o",
  device_offline: "desktop-o",
};

/** The Vant icon of an alarm type. */
export function alarmIcon(type: string): string {
  return TYPE_ICONS[type as AlarmType] ?? "warning-o";
}
