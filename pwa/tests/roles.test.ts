import { describe, expect, it } from "vitest";
import type { RoleAssignment } from "@/api/types";
import {
  assignmentKey,
  capabilitiesFor,
  capabilityForPage,
  capabilityTarget,
  hasPage,
  pickAssignment,
  ROLES,
  sideNavFor,
  tabsFor,
} from "@/roles";

function assignment(role: RoleAssignment["role"], community = "c1"): RoleAssignment {
  return {
    role,
    community_id: community,
    community_name: "幸福里",
    household_id: null,
    household_label: null,
    jurisdiction_id: null,
  };
}

describe("capabilitiesFor", () => {
  it("gives every role at least one capability, none twice", () => {
    for (const role of ROLES) {
      const keys = capabilitiesFor(role).map((c) => c.key);
      expect(keys.length, role).toBeGreaterThan(0);
      expect(new Set(keys).size, role).toBe(keys.length);
    }
  });

  it("sends built capabilities to their page and the rest to the coming-soon page", () => {
    const [audit] = capabilitiesFor("audit_admin");
    const [openDoor, visitors] = capabilitiesFor("resident");
    const notices = capabilitiesFor("resident").find((c) => c.key === "notices");
    expect(capabilityTarget(audit!)).toEqual({ name: "audit" });
    expect(capabilityTarget(openDoor!)).toEqual({ name: "doors" });
    expect(capabilityTarget(visitors!)).toEqual({ name: "visitors" });
    expect(capabilityTarget(notices!)).toEqual({ name: "feature", params: { key: "notices" } });
  });

  it("leads device staff to the device page, each through its own tile", () => {
    expect(capabilityForPage("guard", "devices")?.key).toBe("devices_status");
    expect(capabilityForPage("property_manager", "devices")?.key).toBe("devices_status");
    expect(capabilityForPage("maintenance", "ledger")?.key).toBe("device_ledger");
    expect(capabilityForPage("property_manager", "ledger")?.key).toBe("device_ledger");
    expect(capabilityForPage("system_admin", "devices")?.key).toBe("devices");
    expect(capabilitiesFor("property_manager").map((c) => c.key)).toContain("device_map"); // still coming
  });

  it("gives the places console to system administrators and property managers", () => {
    expect(ROLES.filter((role) => hasPage(role, "places")).sort()).toEqual(["property_manager", "system_admin"]);
    expect(capabilityForPage("system_admin", "places")?.key).toBe("communities");
    expect(capabilityForPage("property_manager", "places")?.key).toBe("places");
  });

  it("gives the accounts console to the security administrator alone (account.write)", () => {
    expect(ROLES.filter((role) => hasPage(role, "accounts"))).toEqual(["security_admin"]);
  });

  it("gives the bridges page to system administrators and the doors to residents only", () => {
    expect(ROLES.filter((role) => hasPage(role, "bridges"))).toEqual(["system_admin"]);
    expect(ROLES.filter((role) => hasPage(role, "doors"))).toEqual(["resident"]);
    expect(ROLES.filter((role) => hasPage(role, "devices")).sort()).toEqual(
      ["guard", "property_manager", "system_admin"].sort(),
    );
    expect(ROLES.filter((role) => hasPage(role, "ledger")).sort()).toEqual(
      ["maintenance", "property_manager"].sort(),
    );
  });

  it("gives the alarm board to guards, property managers and police, as the guard's and police's tab", () => {
    expect(ROLES.filter((role) => hasPage(role, "alarms")).sort()).toEqual(["guard", "police", "property_manager"]);
    expect(capabilityForPage("property_manager", "alarms")?.key).toBe("alarms");
    expect(tabsFor("guard").map((tab) => tab.to)).toContainEqual({ name: "alarms" });
    expect(tabsFor("police").map((tab) => tab.to)).toContainEqual({ name: "alarms" });
  });

  it("gives residents their visitors and pass code, the desk to guards, access control to managers", () => {
    expect(ROLES.filter((role) => hasPage(role, "visitors"))).toEqual(["resident"]);
    expect(ROLES.filter((role) => hasPage(role, "qr"))).toEqual(["resident"]);
    expect(ROLES.filter((role) => hasPage(role, "desk"))).toEqual(["guard"]);
    expect(ROLES.filter((role) => hasPage(role, "door-control")).sort()).toEqual(["guard", "property_manager"]);
    expect(ROLES.filter((role) => hasPage(role, "access-admin"))).toEqual(["property_manager"]);
    expect(capabilityForPage("property_manager", "access-log")?.key).toBe("access_records");
    expect(capabilityForPage("police", "access-log")?.key).toBe("access_records");
  });
});

describe("tabsFor", () => {
  it("frames each role's tabs with Home and Me", () => {
    for (const role of [...ROLES, null]) {
      const keys = tabsFor(role).map((tab) => tab.key);
      expect(keys[0]).toBe("home");
      expect(keys.at(-1)).toBe("profile");
    }
  });

  it("gives the audit administrator a tab to the audit log", () => {
    expect(tabsFor("audit_admin").map((tab) => tab.to)).toContainEqual({ name: "audit" });
  });

  it("gives the system administrator a tab to the device page", () => {
    expect(tabsFor("system_admin").map((tab) => tab.to)).toContainEqual({ name: "devices" });
  });

  it("gives an account without a role only Home and Me", () => {
    expect(tabsFor(null).map((tab) => tab.key)).toEqual(["home", "profile"]);
  });
});

describe("sideNavFor", () => {
  it("lists Home, each built page of the role once, then Me", () => {
    expect(sideNavFor("system_admin").map((item) => item.to)).toEqual([
      { name: "home" },
      { name: "places" },
      { name: "devices" },
      { name: "bridges" },
      { name: "profile" },
    ]);
  });

  it("leaves out capabilities still coming (they stay on the home grid)", () => {
    const keys = sideNavFor("property_manager").map((item) => item.key);
    expect(keys).toContain("places");
    expect(keys).toContain("residents");
    expect(keys).toContain("rules");
    expect(keys).not.toContain("device_map");
    expect(keys).not.toContain("statistics");
  });

  it("gives an account without a role only Home and Me", () => {
    expect(sideNavFor(null).map((item) => item.key)).toEqual(["home", "profile"]);
  });
});

describe("pickAssignment", () => {
  const guard = assignment("guard");
  const guardElsewhere = assignment("guard", "c2");
  const manager = assignment("property_manager");

  it("starts with the account's first role", () => {
    expect(pickAssignment([guard, manager], null)).toBe(guard);
  });

  it("keeps the role chosen earlier, telling apart the same role in two communities", () => {
    expect(pickAssignment([guard, guardElsewhere, manager], assignmentKey(guardElsewhere))).toBe(guardElsewhere);
  });

  it("falls back to the first role when the chosen one was taken away", () => {
    expect(pickAssignment([guard], assignmentKey(manager))).toBe(guard);
  });

  it("is empty for an account without roles", () => {
    expect(pickAssignment([], null)).toBeNull();
  });
});
