import type { paths } from "@/api/schema";
import { alarmTypeLabel } from "@/alarms";
import { i18n } from "@/i18n";

/**
 * The manager's 规则 console (docs/alarms.md): linkage rules as a form, the checks that mirror the
 * API's own (api/alarms/schemas_config.py), and the sentence that says what a rule will do —
 * "东区 入侵报警（22:00–06:00）时：抓拍 东侧周界 摄像机，通知值班保安，120 秒未确认则升级通知物业管理员。"
 * Messages are i18n keys; the server's refusals (`unknown_zone`, `unknown_device`,
 * `failsafe_not_supported`) land on the same fields.
 */

type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;
export type LinkageRule = Json<paths["/api/v1/linkage-rules"]["get"]["responses"][200]>["items"][number];
export type RuleAction = LinkageRule["actions"][number];
export type ActionKind = RuleAction["kind"];
export type Recipient = Extract<RuleAction, { kind: "notify" }>["roles"][number];
export type RuleBody = NonNullable<paths["/api/v1/linkage-rules"]["post"]["requestBody"]>["content"]["application/json"];
export type RuleAlarmType = LinkageRule["alarm_type"];

export const ACTION_KINDS = [
  "snapshot",
  "preset",
  "unlock",
  "lock",
  "broadcast",
  "notify",
  "escalate",
] as const satisfies readonly ActionKind[];

export const RECIPIENTS = [
  "guard",
  "property_manager",
  "household",
  "police",
  "maintenance",
  "community_officer",
] as const satisfies readonly Recipient[];

/** The device kinds that can do each device action (api/alarms/catalogue.py ACTION_DEVICE_KINDS). */
export const ACTION_DEVICE_KINDS: Record<ActionKind, readonly string[]> = {
  snapshot: ["camera", "plate_camera"],
  preset: ["camera"],
  unlock: ["door_controller"],
  lock: ["door_controller"],
  broadcast: ["speaker"],
  notify: [],
  escalate: [],
};

/** The alarm types a bridge can run a rule for by itself (api/alarms/catalogue.py FAILSAFE_TRIGGERS). */
export const FAILSAFE_TYPES: readonly string[] = ["fire", "gas", "water_leak", "temperature", "sos", "door_forced", "tamper"];

export const MAX_ACTIONS = 20;
export const MAX_ESCALATE_AFTER = 86_400;

/** One action as the editor holds it: every field of every kind, the kind choosing which are sent. */
export interface ActionForm {
  kind: ActionKind;
  devices: string[];
  preset: string;
  text: string;
  roles: Recipient[];
  after: string;
}

/** A rule as the editor holds it (times as HH:MM, "" when the rule runs all day). */
export interface RuleForm {
  name: string;
  alarm_type: RuleAlarmType;
  zone_id: string; // "" = any zone
  active_from: string;
  active_until: string;
  actions: ActionForm[];
  failsafe: boolean;
  enabled: boolean;
}

export type RuleField = "name" | "window" | "actions" | "failsafe" | "zone";
type Problems = Partial<Record<RuleField, string>>;

export function blankAction(kind: ActionKind = "snapshot"): ActionForm {
  return {
    kind,
    devices: [],
    preset: "1",
    text: "",
    roles: kind === "escalate" ? ["property_manager"] : ["guard"],
    after: "120",
  };
}

export function blankRule(): RuleForm {
  return {
    name: "",
    alarm_type: "intrusion",
    zone_id: "",
    active_from: "",
    active_until: "",
    actions: [blankAction("snapshot"), blankAction("notify")],
    failsafe: false,
    enabled: true,
  };
}

/** "22:00:00" → "22:00"; null → "". */
export function shortTime(value: string | null | undefined): string {
  return value ? value.slice(0, 5) : "";
}

/** The editor's copy of a rule from the API. */
export function ruleToForm(rule: LinkageRule): RuleForm {
  return {
    name: rule.name,
    alarm_type: rule.alarm_type,
    zone_id: rule.zone_id ?? "",
    active_from: shortTime(rule.active_from),
    active_until: shortTime(rule.active_until),
    actions: rule.actions.map((action) => ({
      ...blankAction(action.kind),
      devices: "devices" in action && action.devices ? [...action.devices] : [],
      preset: action.kind === "preset" ? String(action.preset) : "1",
      text: action.kind === "broadcast" || action.kind === "notify" ? (action.text ?? "") : "",
      roles: action.kind === "notify" || action.kind === "escalate" ? [...action.roles] : ["guard"],
      after: action.kind === "escalate" ? String(action.after) : "120",
    })),
    failsafe: rule.failsafe,
    enabled: rule.enabled,
  };
}

/** One action as the API takes it: only the fields of its kind. */
export function actionBody(action: ActionForm): RuleAction {
  switch (action.kind) {
    case "snapshot":
    case "unlock":
    case "lock":
      return { kind: action.kind, devices: [...action.devices] };
    case "preset":
      return { kind: "preset", preset: Number(action.preset), devices: [...action.devices] };
    case "broadcast":
      return { kind: "broadcast", text: action.text.trim(), devices: [...action.devices] };
    case "notify":
      return { kind: "notify", roles: [...action.roles], text: action.text.trim() };
    case "escalate":
      return { kind: "escalate", after: Number(action.after), roles: [...action.roles] };
  }
}

const withSeconds = (value: string) => (value ? `${value}:00` : null);

/** The body of a new rule (PATCH takes the same fields but the community, type and zone). */
export function ruleBody(form: RuleForm, communityId: string): RuleBody {
  return {
    community_id: communityId,
    name: form.name.trim(),
    alarm_type: form.alarm_type,
    zone_id: form.zone_id || null,
    active_from: withSeconds(form.active_from),
    active_until: withSeconds(form.active_until),
    actions: form.actions.map(actionBody),
    failsafe: form.failsafe,
    enabled: form.enabled,
  };
}

const whole = (value: string, low: number, high: number) =>
  /^\d+$/.test(value.trim()) && Number(value) >= low && Number(value) <= high;

/** What is wrong with a rule before it is sent (i18n keys by field); {} when nothing. */
export function checkRule(form: RuleForm): Problems {
  const problems: Problems = {};
  const name = form.name.trim();
  if (!name) problems.name = "rules.check.nameRequired";
  else if (name.length > 100) problems.name = "rules.check.tooLong";
  if (Boolean(form.active_from) !== Boolean(form.active_until)) problems.window = "rules.check.windowPair";
  else if (form.active_from && form.active_from === form.active_until) problems.window = "rules.check.windowEmpty";
  if (form.actions.length === 0) problems.actions = "rules.check.actionsRequired";
  else if (form.actions.length > MAX_ACTIONS) problems.actions = "rules.check.tooManyActions";
  else {
    const bad = form.actions.find((action) => actionProblem(action));
    if (bad) problems.actions = actionProblem(bad);
  }
  if (form.failsafe && !FAILSAFE_TYPES.includes(form.alarm_type)) problems.failsafe = "errors.failsafe_not_supported";
  return problems;
}

/** What is wrong with one action (an i18n key), or "". */
export function actionProblem(action: ActionForm): string {
  switch (action.kind) {
    case "preset":
      return whole(action.preset, 1, 255) ? "" : "rules.check.preset";
    case "broadcast":
      if (!action.text.trim()) return "rules.check.broadcastText";
      return action.text.trim().length > 500 ? "rules.check.tooLong" : "";
    case "notify":
      if (action.roles.length === 0) return "rules.check.rolesRequired";
      return action.text.trim().length > 200 ? "rules.check.tooLong" : "";
    case "escalate":
      if (action.roles.length === 0) return "rules.check.rolesRequired";
      return whole(action.after, 1, MAX_ESCALATE_AFTER) ? "" : "rules.check.after";
    default:
      return "";
  }
}

// -- the sentence ------------------------------------------------------------------------------

/** What the sentence needs to name things: zones (with their devices), devices, who is on duty now. */
export interface RuleContext {
  zones: ReadonlyMap<string, { name: string; devices: readonly string[] }>;
  devices: ReadonlyMap<string, { name: string; kind: string }>;
  /** The guards on duty now, by name; null when not known. */
  onDuty?: readonly string[] | null;
}

type SentenceRule = Pick<RuleForm, "alarm_type" | "zone_id" | "active_from" | "active_until"> & {
  actions: readonly ActionForm[];
};

function list(names: readonly string[]): string {
  return names.join(i18n.global.t("rules.say.and"));
}

/** The devices an action reaches, by name, as the linkage job picks them (docs/alarms.md "Which devices"). */
export function actionTargets(action: ActionForm, zoneId: string, ctx: RuleContext): string[] | null {
  const kinds = ACTION_DEVICE_KINDS[action.kind];
  if (kinds.length === 0) return null;
  const pick = (ids: readonly string[]) =>
    ids.flatMap((id) => {
      const device = ctx.devices.get(id);
      return device && kinds.includes(device.kind) ? [device.name] : [];
    });
  if (action.devices.length > 0) return action.devices.map((id) => ctx.devices.get(id)?.name ?? id);
  const zone = zoneId ? ctx.zones.get(zoneId) : undefined;
  return zone ? pick(zone.devices) : [];
}

function recipients(roles: readonly Recipient[], ctx: RuleContext): string {
  const { t } = i18n.global;
  return list(
    roles.map((role) =>
      role === "guard" && ctx.onDuty?.length
        ? t("rules.say.guardsNamed", { names: list(ctx.onDuty) })
        : t(`rules.recipients.${role}`),
    ),
  );
}

/** One action in words: 抓拍 东侧周界 摄像机 / snapshot from 东侧周界 camera. */
export function describeAction(action: ActionForm, zoneId: string, ctx: RuleContext): string {
  const { t } = i18n.global;
  if (action.kind === "notify") return t("rules.say.notify", { who: recipients(action.roles, ctx) });
  if (action.kind === "escalate") {
    return t("rules.say.escalate", { after: action.after.trim() || "?", who: recipients(action.roles, ctx) });
  }
  const targets = actionTargets(action, zoneId, ctx) ?? [];
  // Nothing listed: the zone's devices (none: the action is skipped), or (without a zone) the
  // alarm zone's cameras or the whole community's doors and speakers.
  if (!targets.length && zoneId && ctx.zones.has(zoneId)) {
    return t("rules.say.skipped", { action: t(`rules.kinds.${action.kind}`) });
  }
  const where = targets.length
    ? list(targets)
    : t(zoneId ? `rules.say.zoneDevices.${action.kind}` : `rules.say.anyDevices.${action.kind}`);
  return t(`rules.say.${action.kind}`, { devices: where, preset: action.preset, text: action.text.trim() });
}

/** When the rule runs: 东区 入侵报警（22:00–06:00）时 / On 入侵 in 东区 (22:00–06:00). */
export function describeTrigger(rule: SentenceRule, ctx: RuleContext): string {
  const { t } = i18n.global;
  const zone = rule.zone_id ? (ctx.zones.get(rule.zone_id)?.name ?? "?") : t("rules.anyZone");
  const window =
    rule.active_from && rule.active_until && rule.active_from !== rule.active_until
      ? t(rule.active_from > rule.active_until ? "rules.say.overnight" : "rules.say.window", {
          from: shortTime(rule.active_from),
          until: shortTime(rule.active_until),
        })
      : "";
  return t("rules.say.when", { zone, type: alarmTypeLabel(rule.alarm_type), window });
}

/** The whole preview: the trigger, then each action in order, in the current language. */
export function describeRule(rule: SentenceRule, ctx: RuleContext): string {
  const { t } = i18n.global;
  const actions = rule.actions.map((action) => describeAction(action, rule.zone_id, ctx));
  return t("rules.say.sentence", {
    when: describeTrigger(rule, ctx),
    then: actions.length ? actions.join(t("rules.say.comma")) : t("rules.say.nothing"),
  });
}

/**
 * A `linkage` entry of an alarm's timeline in words: the rule's name, what it did and how it went
 * (东区夜间入侵：抓拍 · 成功). The server's text is "<rule name>: <action kind>".
 */
export function linkageEntryText(entry: { text: string; data: Record<string, unknown> }): string {
  const { t, te } = i18n.global;
  const action = typeof entry.data.action === "string" ? entry.data.action : "";
  const status = typeof entry.data.status === "string" ? entry.data.status : "";
  const suffix = `: ${action}`;
  const rule = action && entry.text.endsWith(suffix) ? entry.text.slice(0, -suffix.length) : entry.text;
  const label = (key: string, fallback: string) => (te(key) ? t(key) : fallback);
  return t("rules.entry", {
    rule,
    action: label(`rules.kinds.${action}`, action),
    status: label(`rules.status.${status}`, status),
  });
}

// -- emergency plans, zones and their schedules, the duty roster ------------------------------

export type Plan = Json<paths["/api/v1/plans"]["get"]["responses"][200]>["items"][number];
export type Zone = Json<paths["/api/v1/zones"]["get"]["responses"][200]>["items"][number];
export type ZoneSchedule = Json<paths["/api/v1/zones/{zone_id}/schedules"]["get"]["responses"][200]>[number];
export type Shift = Json<paths["/api/v1/duty-shifts"]["get"]["responses"][200]>["items"][number];

export const MAX_STEPS = 30;

export interface PlanForm {
  title: string;
  alarm_type: RuleAlarmType;
  zone_id: string; // "" = every zone
  steps: string[];
}

/** A plan's title and its 1–30 steps of 1–200 characters (api/alarms/schemas_config.py). */
export function checkPlan(form: PlanForm): Partial<Record<"title" | "steps", string>> {
  const problems: Partial<Record<"title" | "steps", string>> = {};
  const title = form.title.trim();
  if (!title) problems.title = "rules.check.nameRequired";
  else if (title.length > 100) problems.title = "rules.check.tooLong";
  const steps = form.steps.map((s) => s.trim());
  if (steps.length === 0 || steps.some((s) => !s)) problems.steps = "rules.check.stepsRequired";
  else if (steps.length > MAX_STEPS) problems.steps = "rules.check.tooManySteps";
  else if (steps.some((s) => s.length > 200)) problems.steps = "rules.check.tooLong";
  return problems;
}

export interface ScheduleForm {
  weekdays: number[]; // 0 = Monday … 6 = Sunday
  arm_at: string;
  disarm_at: string;
}

/** Weekdays chosen, both times given and different. */
export function checkSchedule(form: ScheduleForm): string {
  if (form.weekdays.length === 0) return "rules.check.weekdays";
  if (!form.arm_at || !form.disarm_at) return "rules.check.windowPair";
  return form.arm_at === form.disarm_at ? "rules.check.windowEmpty" : "";
}

/** 周一至周五 22:00 布防，次日 06:00 撤防 / Mon–Fri: arm 22:00, disarm 06:00 the next day. */
export function describeSchedule(schedule: Pick<ScheduleForm, "weekdays" | "arm_at" | "disarm_at">): string {
  const { t } = i18n.global;
  const days = [...schedule.weekdays].sort((a, b) => a - b);
  const run = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1]! + 1);
  const dayText =
    days.length === 7
      ? t("rules.schedules.everyDay")
      : run
        ? t("rules.schedules.range", { from: t(`rules.schedules.days.d${days[0]}`), until: t(`rules.schedules.days.d${days.at(-1)}`) })
        : days.map((d) => t(`rules.schedules.days.d${d}`)).join(t("rules.say.and"));
  const arm = shortTime(schedule.arm_at);
  const disarm = shortTime(schedule.disarm_at);
  return t(disarm < arm ? "rules.schedules.overnight" : "rules.schedules.sameDay", { days: dayText, arm, disarm });
}

export interface ShiftForm {
  account_id: string;
  starts_at: string; // datetime-local, site time
  ends_at: string;
}

const MAX_SHIFT_MS = 7 * 24 * 3600 * 1000;

/** A guard chosen, and an end after the start, at most seven days later. */
export function checkShift(form: ShiftForm): Partial<Record<"account_id" | "period", string>> {
  const problems: Partial<Record<"account_id" | "period", string>> = {};
  if (!form.account_id) problems.account_id = "rules.check.guardRequired";
  const starts = Date.parse(form.starts_at);
  const ends = Date.parse(form.ends_at);
  if (Number.isNaN(starts) || Number.isNaN(ends)) problems.period = "rules.check.windowPair";
  else if (!(ends > starts && ends - starts <= MAX_SHIFT_MS)) problems.period = "rules.check.shiftLength";
  return problems;
}
