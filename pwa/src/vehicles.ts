import type { LaneStatus, PassRecord } from "@/api/types";
import { i18n } from "@/i18n";

/** A read below this confidence is shown as uncertain: the guard checks the plate. */
export const LOW_CONFIDENCE = 0.8;

/** The shortest stated reason for lifting or closing an arm remotely (the API asks for one). */
export const REASON_MIN = 1;

export const VEHICLE_TYPES = ["car", "suv", "truck", "bus", "motorbike", "new_energy"] as const;
export const PLATE_COLOURS = ["blue", "green", "yellow", "white", "black"] as const;

function labelOf(group: string, code: string): string {
  const { t, te } = i18n.global;
  const key = `${group}.${code}`;
  return te(key) ? t(key) : code;
}

/** 业主车辆, 访客车辆, 未登记车辆, 黑名单, … (the API's reason codes; an unknown one as it is). */
export function reasonLabel(reason: string): string {
  const failed = /^(.+)_(failed|timeout|unsupported|offline)$/.exec(reason);
  if (failed && !i18n.global.te(`vehicles.reasons.${reason}`)) {
    return `${labelOf("vehicles.reasons", failed[1]!)} · ${labelOf("vehicles.commandFailed", failed[2]!)}`;
  }
  return labelOf("vehicles.reasons", reason);
}

/** 放行, 拒绝, 待处理, 忽略. */
export function decisionLabel(decision: string): string {
  return labelOf("vehicles.decisions", decision);
}

/** 小轿车, SUV, … */
export function vehicleTypeLabel(type: string): string {
  return labelOf("vehicles.types", type);
}

/** 蓝牌, 绿牌, … */
export function colourLabel(colour: string): string {
  return labelOf("vehicles.colours", colour);
}

/** 待审核, 已生效, 已注销. */
export function vehicleStatusLabel(status: string): string {
  return labelOf("vehicles.statuses", status);
}

/** The tag colour of a decision: granted green, denied red, held (the guard's to answer) orange. */
export function decisionTone(decision: string): "success" | "danger" | "warning" | "default" {
  if (decision === "granted") return "success";
  if (decision === "denied") return "danger";
  if (decision === "held") return "warning";
  return "default";
}

/** A read a guard answers: held or refused at a lane, not a remote lift or close. */
export function needsAnswer(record: Pick<PassRecord, "decision" | "reason" | "lane_id">): boolean {
  return (
    record.lane_id !== null &&
    (record.decision === "held" || record.decision === "denied") &&
    !record.reason.startsWith("remote_")
  );
}

/** A read the camera was not sure of. */
export function isLowConfidence(record: Pick<PassRecord, "confidence" | "decided_by">): boolean {
  return record.decided_by === null && record.confidence > 0 && record.confidence < LOW_CONFIDENCE;
}

/** The pass record a live event carries (`{type: "vehicle.pass", record}`), or null. */
export function livePass(event: { type: string; [field: string]: unknown }): PassRecord | null {
  if (event.type !== "vehicle.pass") return null;
  const record = event.record as Partial<PassRecord> | undefined;
  return record && typeof record.id === "string" && typeof record.at === "string" ? (record as PassRecord) : null;
}

/**
 * The lanes with a live read applied: it becomes its lane's last read unless the lane already
 * shows a later one (events may arrive out of order after a reconnect). The snapshot link is the
 * old read's, so it is dropped until the console is read again. `changed` is false when the read
 * is of no lane shown, or older.
 */
export function applyLivePass(lanes: readonly LaneStatus[], record: PassRecord): { lanes: LaneStatus[]; changed: boolean } {
  let changed = false;
  const next = lanes.map((status) => {
    if (status.lane.id !== record.lane_id) return status;
    const last = status.last;
    if (last && (last.id === record.id || Date.parse(last.at) > Date.parse(record.at))) return status;
    changed = true;
    return { ...status, last: record, image_url: null };
  });
  return { lanes: changed ? next : [...lanes], changed };
}

/** Lanes waiting for the guard first, then by name: the ones to answer are on top. */
export function byUrgency(lanes: readonly LaneStatus[]): LaneStatus[] {
  const waiting = (s: LaneStatus) => (s.last && needsAnswer(s.last) && s.last.decision === "held" ? 0 : 1);
  return [...lanes].sort((a, b) => waiting(a) - waiting(b) || a.lane.name.localeCompare(b.lane.name, "zh-CN"));
}

/** 入场 / 出场. */
export function directionLabel(direction: string): string {
  return labelOf("vehicles.directions", direction);
}

/** A visitor's car let in, as the household's cars screen lists it. */
export interface CarArrival {
  id: string;
  passId: string;
  visitor: string;
  at: string;
  lane: string;
}

/**
 * The visitors' cars let in among a household's pass records, newest first, each with its
 * visitor's name from the household's visitor passes (empty when that pass is not at hand).
 */
export function carArrivals(records: readonly PassRecord[], visitors: ReadonlyMap<string, string>): CarArrival[] {
  return records
    .filter((r) => r.visitor_pass_id && r.decision === "granted" && r.direction === "in")
    .map((r) => ({
      id: r.id,
      passId: r.visitor_pass_id!,
      visitor: visitors.get(r.visitor_pass_id!) ?? "",
      at: r.at,
      lane: r.lane_name,
    }))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}
