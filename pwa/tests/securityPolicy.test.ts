import { describe, expect, it } from "vitest";
import { checkPolicy, FLOOR, type PolicyForm, policyChanges, totpRequiredByFloor } from "@/securityPolicy";

const floor = Object.fromEntries(Object.entries(FLOOR).map(([k, v]) => [k, String(v.value)])) as PolicyForm;
const current = {
  ...(Object.fromEntries(Object.entries(FLOOR).map(([k, v]) => [k, v.value])) as Record<keyof PolicyForm, number>),
  totp_roles: ["guard", "property_manager"] as const,
};

describe("securityPolicy", () => {
  it("accepts the floor and anything stricter", () => {
    expect(checkPolicy(floor)).toEqual({});
    expect(checkPolicy({ ...floor, password_min_length: "16", lockout_threshold: "3", idle_staff_minutes: "5" })).toEqual({});
  });

  it("refuses values weaker than the floor, each on its field", () => {
    expect(checkPolicy({ ...floor, password_min_length: "8", lockout_threshold: "6", lockout_minutes: "5" })).toEqual({
      password_min_length: "securityPolicy.check.atLeast",
      lockout_threshold: "securityPolicy.check.atMost",
      lockout_minutes: "securityPolicy.check.atLeast",
    });
  });

  it("refuses what is not a whole number in range", () => {
    expect(checkPolicy({ ...floor, absolute_hours: "1.5", password_min_classes: "5", idle_resident_minutes: "0" })).toEqual({
      absolute_hours: "securityPolicy.check.number",
      password_min_classes: "securityPolicy.check.number",
      idle_resident_minutes: "securityPolicy.check.number",
    });
  });

  it("sends only what changed", () => {
    expect(policyChanges({ ...floor, lockout_threshold: "3" }, ["property_manager", "guard"], current)).toEqual({ lockout_threshold: 3 });
    expect(policyChanges(floor, ["guard", "property_manager", "resident"], current)).toEqual({
      totp_roles: ["guard", "property_manager", "resident"],
    });
  });

  it("requires TOTP of every role but the resident's", () => {
    expect(totpRequiredByFloor("guard")).toBe(true);
    expect(totpRequiredByFloor("resident")).toBe(false);
  });
});
