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
