import type { MaintenancePlanCreate, MaintenancePlanExecution } from "@/api/types";
import { DEVICE_KINDS } from "@/devices";
import { MANUAL_KINDS } from "@/ledger";

/** Preventive maintenance plans (保养计划): the rules of the plan form (docs/workorders.md). */
export type Frequency = MaintenancePlanCreate["frequency"];
export const FREQUENCIES: readonly Frequency[] = ["daily", "weekly", "monthly", "quarterly", "yearly", "every_n_days"];
/** The kinds a plan may cover: the ledger's hand-added kinds first, then the bridges'. */
export const PLAN_KINDS: readonly string[] = [...MANUAL_KINDS.filter((k) => k !== "other"), ...DEVICE_KINDS];

/** What the plan form holds: the checklist as one step a line, times as the inputs give them. */
export interface PlanForm {
  name: string;
  asset_kind: string;
  frequency: Frequency;
  interval_days: string;
  starts_on: string; // YYYY-MM-DD
  due_time: string; // HH:MM
  horizon_days: string;
  priority: MaintenancePlanCreate["priority"];
  assignee_id: string;
  steps: string;
  signature_required: boolean;
}

export function emptyPlan(today: string): PlanForm {
  return {
    name: "",
    asset_kind: "extinguisher",
    frequency: "monthly",
    interval_days: "",
    starts_on: today,
    due_time: "17:00",
    horizon_days: "30",
    priority: "normal",
    assignee_id: "",
    steps: "",
    signature_required: false,
  };
}

/** The steps of the checklist: one a line, blank lines dropped, at most 30. */
export function checklistOf(steps: string): string[] {
  return steps
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean)
    .slice(0, 30);
}

function whole(value: string, min: number, max: number): boolean {
  const n = Number(value);
  return /^\d+$/.test(value.trim()) && n >= min && n <= max;
}

/** The fields the form must fix before it is sent (the API checks the same). */
export function planProblems(form: PlanForm): string[] {
  const problems: string[] = [];
  if (!form.name.trim()) problems.push("name");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.starts_on)) problems.push("starts_on");
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(form.due_time)) problems.push("due_time");
  if (!whole(form.horizon_days, 1, 366)) problems.push("horizon_days");
  if (form.frequency === "every_n_days" && !whole(form.interval_days, 1, 366)) problems.push("interval_days");
  if (checklistOf(form.steps).some((s) => s.length > 200)) problems.push("steps");
  return problems;
}

/** The API's body for a new plan in the community. */
export function planBody(form: PlanForm, communityId: string): MaintenancePlanCreate {
  return {
    community_id: communityId,
    name: form.name.trim(),
    asset_kind: form.asset_kind,
    frequency: form.frequency,
    interval_days: form.frequency === "every_n_days" ? Number(form.interval_days) : null,
    starts_on: form.starts_on,
    due_time: `${form.due_time}:00`,
    horizon_days: Number(form.horizon_days),
    priority: form.priority,
    assignee_id: form.assignee_id || null,
    checklist: checklistOf(form.steps),
    signature_required: form.signature_required,
    description: "",
  };
}

// -- a plan's execution ----------------------------------------------------------------------------

/** The periods a plan's page offers, in days up to today. */
export const EXECUTION_PERIODS = [30, 90, 365] as const;
export type ExecutionPeriod = (typeof EXECUTION_PERIODS)[number];

/** The `since`…`until` (site dates, inclusive) of the `days` up to `today` (YYYY-MM-DD). */
export function executionPeriod(days: number, today: string): { since: string; until: string } {
  const until = new Date(`${today}T00:00:00Z`);
  const since = new Date(until.getTime() - (days - 1) * 86_400_000);
  return { since: since.toISOString().slice(0, 10), until: today };
}

/** The outcomes of a plan's orders, in the order the page shows them. */
export const OUTCOMES = ["done_on_time", "done_late", "overdue", "open", "cancelled"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Each outcome's count and its share of the orders generated (whole percent; 0 when none). */
export function outcomeShares(e: MaintenancePlanExecution): { outcome: Outcome; n: number; percent: number }[] {
  return OUTCOMES.map((outcome) => ({
    outcome,
    n: e[outcome],
    percent: e.generated ? Math.round((e[outcome] / e.generated) * 100) : 0,
  }));
}
