import type { Role } from "@/api/types";

/**
 * The security policy screen (docs/security.md, "Security policy"): the floor the API holds
 * (api/accounts/policy.py, `FLOOR`) and the form check that mirrors it, so the form says what is
 * too weak before it is sent; the server's `policy_below_floor` lands on the field it names.
 */

export type NumberField =
  | "password_min_length"
  | "password_min_classes"
  | "lockout_threshold"
  | "lockout_minutes"
  | "idle_staff_minutes"
  | "idle_resident_minutes"
  | "absolute_hours";

export const NUMBER_FIELDS: readonly NumberField[] = [
  "password_min_length",
  "password_min_classes",
  "lockout_threshold",
  "lockout_minutes",
  "idle_staff_minutes",
  "idle_resident_minutes",
  "absolute_hours",
];

/** The screen's sections and their fields. */
export const GROUPS = {
  password: ["password_min_length", "password_min_classes"],
  lockout: ["lockout_threshold", "lockout_minutes"],
  session: ["idle_staff_minutes", "idle_resident_minutes", "absolute_hours"],
} as const satisfies Record<string, readonly NumberField[]>;

/** Each field's floor, and whether a larger value is stricter (a length) or a smaller one (a timeout). */
export const FLOOR: Record<NumberField, { value: number; up: boolean; max: number }> = {
  password_min_length: { value: 10, up: true, max: 64 },
  password_min_classes: { value: 3, up: true, max: 4 },
  lockout_threshold: { value: 5, up: false, max: 100 },
  lockout_minutes: { value: 15, up: true, max: 10080 },
  idle_staff_minutes: { value: 15, up: false, max: 1440 },
  idle_resident_minutes: { value: 30, up: false, max: 1440 },
  absolute_hours: { value: 12, up: false, max: 720 },
};

/** Roles whose TOTP the floor requires (every role but the resident's). */
export function totpRequiredByFloor(role: Role): boolean {
  return role !== "resident";
}

export type PolicyForm = Record<NumberField, string>;

/** The problems of a form, by field: not a whole number in range, or weaker than the floor. */
export function checkPolicy(form: PolicyForm): Partial<Record<NumberField, string>> {
  const problems: Partial<Record<NumberField, string>> = {};
  for (const field of NUMBER_FIELDS) {
    const text = form[field].trim();
    const value = Number(text);
    const { value: floor, up, max } = FLOOR[field];
    if (!/^\d+$/.test(text) || value < 1 || value > max) problems[field] = "securityPolicy.check.number";
    else if (up ? value < floor : value > floor) problems[field] = up ? "securityPolicy.check.atLeast" : "securityPolicy.check.atMost";
  }
  return problems;
}

/** The fields that changed, as the PATCH body wants them. */
export function policyChanges(
  form: PolicyForm,
  totpRoles: readonly Role[],
  current: Record<NumberField, number> & { totp_roles: readonly Role[] },
): Partial<Record<NumberField, number>> & { totp_roles?: Role[] } {
  const body: Partial<Record<NumberField, number>> & { totp_roles?: Role[] } = {};
  for (const field of NUMBER_FIELDS) {
    const value = Number(form[field].trim());
    if (value !== current[field]) body[field] = value;
  }
  const sorted = [...totpRoles].sort();
  if (sorted.join() !== [...current.totp_roles].sort().join()) body.totp_roles = sorted;
  return body;
}
