import type { DrillKind, OpsKind, OpsSeverity } from "@/api/types";

/**
 * The rules the O&M screens show, mirroring api/operations/catalogue.py and schemas.py: the
 * kinds and their own fields, what each move needs filled, the tones. The API decides; the
 * record's `moves` says which moves the viewer may make now.
 */
export const KINDS: readonly OpsKind[] = ["incident", "problem", "change", "release", "defect"];
export const SEVERITIES: readonly OpsSeverity[] = ["critical", "major", "minor", "low"];
export const DRILL_KINDS: readonly DrillKind[] = ["fire_drill", "emergency_plan_drill", "training"];
export const RISKS = ["low", "medium", "high"] as const;
export const OUTCOMES = ["succeeded", "rolled_back"] as const;

/** A kind's own text fields, in the order a form shows them. */
export const FIELDS: Record<OpsKind, readonly string[]> = {
  incident: ["impact", "resolution", "evaluation", "summary"],
  problem: ["root_cause", "workaround", "solution", "evaluation"],
  change: ["scope", "rollback_plan", "implementation", "review"],
  release: ["version", "plan", "result", "analysis"],
  defect: ["component", "impact", "fix", "analysis", "improvement_plan"],
};

/** The fields a record must have when it is filed. */
export const AT_FILING: Record<OpsKind, readonly string[]> = {
  incident: [],
  problem: [],
  change: ["scope", "rollback_plan"],
  release: ["version", "plan"],
  defect: [],
};

/** `kind>to` → the fields the move needs filled (catalogue.REQUIRED). */
const REQUIRED: Record<string, readonly string[]> = {
  "incident>resolved": ["resolution"],
  "incident>closed": ["evaluation", "summary"],
  "problem>known_error": ["root_cause", "workaround"],
  "problem>resolved": ["root_cause", "solution"],
  "change>implemented": ["outcome", "implementation"],
  "change>reviewed": ["review"],
  "release>released": ["result"],
  "release>verified": ["analysis"],
  "defect>fixed": ["fix"],
  "defect>verified": ["analysis", "improvement_plan"],
};

/** A record's details as a form edits them: every field a string. */
export type DetailsForm = Record<string, string>;

/** The fields a move needs. */
export function needs(kind: OpsKind, to: string): readonly string[] {
  return REQUIRED[`${kind}>${to}`] ?? [];
}

/** The fields a move needs that the form leaves empty. */
export function missingFor(kind: OpsKind, to: string, form: DetailsForm): string[] {
  return needs(kind, to).filter((field) => !(form[field] ?? "").trim());
}

/** The fields left empty that filing a record of the kind needs. */
export function missingAtFiling(kind: OpsKind, form: DetailsForm): string[] {
  return AT_FILING[kind].filter((field) => !(form[field] ?? "").trim());
}

/** An empty form of a kind's details (a change starts at low risk, no outcome). */
export function blankDetails(kind: OpsKind): DetailsForm {
  const form: DetailsForm = Object.fromEntries(FIELDS[kind].map((field) => [field, ""]));
  if (kind === "change") Object.assign(form, { risk: "low", outcome: "" });
  return form;
}

/** A record's details as the form edits them. */
export function toForm(kind: OpsKind, details: Record<string, unknown>): DetailsForm {
  const form = blankDetails(kind);
  for (const key of Object.keys(form)) {
    const value = details[key];
    if (typeof value === "string") form[key] = value;
  }
  return form;
}

/** The form as the API takes it: the kind's tag and every field (a change's planned time kept). */
export function fromForm(kind: OpsKind, form: DetailsForm, details: Record<string, unknown> = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { kind };
  for (const [key, value] of Object.entries(form)) body[key] = key === "version" ? value.trim() : value;
  if ((kind === "change" || kind === "release") && details.planned_at) body.planned_at = details.planned_at;
  return body;
}

export type Tone = "primary" | "success" | "warning" | "danger" | "default";

/** The tone of a state: final ones done (rejected danger), opening ones warning, the rest primary. */
export function stateTone(state: string): Tone {
  if (state === "rejected") return "danger";
  if (["closed", "reviewed", "verified"].includes(state)) return "success";
  if (["new", "requested", "planned", "found"].includes(state)) return "warning";
  return "primary";
}

export function severityTone(severity: OpsSeverity): Tone {
  return severity === "critical" ? "danger" : severity === "major" ? "warning" : "default";
}

/** The largest attachment the API keeps (bytes). */
export const MAX_ATTACHMENT = 700_000;

/** Whether a file may be attached to a drill: a photo or a PDF, at most 700 kB as sent. */
export function attachable(type: string, size: number): "ok" | "type" | "size" {
  if (!["image/jpeg", "image/png", "image/webp", "application/pdf"].includes(type)) return "type";
  return size > MAX_ATTACHMENT ? "size" : "ok";
}
