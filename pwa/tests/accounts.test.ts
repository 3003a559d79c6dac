import { describe, expect, it } from "vitest";
import type { Account } from "@/api/types";
import { accountStatus, checkUsername, firstPassword, isAdministrator, rolesEditable } from "@/accounts";

function role(name: Account["roles"][number]["role"]): Account["roles"][number] {
  return { role: name, community_id: null, community_name: null, household_id: null, household_label: null, jurisdiction_id: null };
}

describe("rolesEditable", () => {
  it("lets the security administrator change another staff account's roles", () => {
    expect(rolesEditable({ id: "a", roles: [role("guard")] }, "me")).toBe(true);
  });

  it("never the own roles, nor an administrator's (an administrator holds one role)", () => {
    expect(rolesEditable({ id: "me", roles: [role("guard")] }, "me")).toBe(false);
    for (const admin of ["system_admin", "security_admin", "audit_admin"] as const) {
      expect(isAdministrator({ roles: [role(admin)] })).toBe(true);
      expect(rolesEditable({ id: "a", roles: [role(admin)] }, "me")).toBe(false);
    }
  });
});

describe("accountStatus", () => {
  const now = new Date("2026-12-03T10:00:00Z");

  it("says disabled before locked, and locked only until the lock ends", () => {
    expect(accountStatus({ is_active: false, locked_until: "2026-12-03T11:00:00Z" }, now)).toBe("disabled");
    expect(accountStatus({ is_active: true, locked_until: "2026-12-03T11:00:00Z" }, now)).toBe("locked");
    expect(accountStatus({ is_active: true, locked_until: "2026-12-03T09:00:00Z" }, now)).toBe("active");
    expect(accountStatus({ is_active: true, locked_until: null }, now)).toBe("active");
  });
});

describe("checkUsername", () => {
  it("takes what the API takes", () => {
    expect(checkUsername("guard.wang")).toBeNull();
    expect(checkUsername("ab")).toBe("accounts.check.username");
    expect(checkUsername("王保安")).toBe("accounts.check.username");
  });
});

describe("firstPassword", () => {
  it("mixes cases and digits in three groups of four, without look-alikes", () => {
    for (let i = 0; i < 50; i += 1) {
      const password = firstPassword();
      expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{4}(-[a-km-zA-HJ-NP-Z2-9]{4}){2}$/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/\d/);
    }
  });

  it("draws again when a draw misses a class", () => {
    const draws = [...Array(12).fill(0), ...Array.from({ length: 12 }, (_, i) => (i * 5 + 1) / 60)];
    const password = firstPassword(() => draws.shift() ?? 0.5);
    expect(password).not.toBe("aaaa-aaaa-aaaa");
    expect(password).toMatch(/\d/);
  });
});
