import { describe, expect, it } from "vitest";
import { type Destination, decide, safeRedirect } from "@/navigation";

function to(name: string, fullPath: string, extra: Partial<Destination> = {}): Destination {
  return { name, fullPath, params: {}, meta: {}, ...extra };
}

const login = to("login", "/login", { meta: { public: true } });
const home = to("home", "/home");
const audit = to("audit", "/audit", { meta: { role: "audit_admin" } });
const doors = to("doors", "/doors");
const devices = to("devices", "/devices");
const bridges = to("bridges", "/bridges");
const feature = (key: string) => to("feature", `/feature/${key}`, { params: { key } });

const signedOut = { signedIn: false, role: null };
const resident = { signedIn: true, role: "resident" } as const;
const auditor = { signedIn: true, role: "audit_admin" } as const;
const guard = { signedIn: true, role: "guard" } as const;
const sysadmin = { signedIn: true, role: "system_admin" } as const;

describe("decide", () => {
  it("sends a signed-out visitor to the login page, remembering a deep link", () => {
    expect(decide(home, signedOut)).toEqual({ name: "login" });
    expect(decide(audit, signedOut)).toEqual({ name: "login", query: { redirect: "/audit" } });
  });

  it("lets anyone see public pages, but sends the signed-in from login to home", () => {
    expect(decide(login, signedOut)).toBe(true);
    expect(decide(login, resident)).toEqual({ name: "home" });
    expect(decide(to("offline", "/offline", { meta: { public: true } }), resident)).toBe(true);
  });

  it("opens a role's page only to that role", () => {
    expect(decide(audit, auditor)).toBe(true);
    expect(decide(audit, resident)).toEqual({ name: "home" });
  });

  it("opens a built capability's page only to roles with that capability", () => {
    expect(decide(doors, resident)).toBe(true);
    expect(decide(doors, guard)).toEqual({ name: "home" });
    expect(decide(devices, guard)).toBe(true);
    expect(decide(devices, sysadmin)).toBe(true);
    expect(decide(devices, resident)).toEqual({ name: "home" });
    expect(decide(bridges, sysadmin)).toBe(true);
    expect(decide(bridges, guard)).toEqual({ name: "home" });
    expect(decide(devices, { signedIn: true, role: null })).toEqual({ name: "home" });
    expect(decide(bridges, signedOut)).toEqual({ name: "login", query: { redirect: "/bridges" } });
  });

  it("opens the alarm board to guards, managers and police, and an alarm also to its residents", () => {
    const board = to("alarms", "/alarms");
    const alarm = to("alarm", "/alarms/a1", { params: { id: "a1" }, meta: { within: "alarms", alsoFor: ["resident"] } });
    const sos = to("sos", "/sos/a1", { params: { id: "a1" }, meta: { role: "resident" } });
    const police = { signedIn: true, role: "police" } as const;
    const manager = { signedIn: true, role: "property_manager" } as const;
    for (const visitor of [guard, police, manager]) {
      expect(decide(board, visitor), visitor.role).toBe(true);
      expect(decide(alarm, visitor), visitor.role).toBe(true);
      expect(decide(sos, visitor), visitor.role).toEqual({ name: "home" });
    }
    expect(decide(board, resident)).toEqual({ name: "home" });
    expect(decide(alarm, resident)).toBe(true); // a push about their own smoke detector
    expect(decide(sos, resident)).toBe(true);
    expect(decide(alarm, sysadmin)).toEqual({ name: "home" });
    expect(decide(alarm, signedOut)).toEqual({ name: "login", query: { redirect: "/alarms/a1" } });
  });

  it("opens a capability page only for a capability of the active role", () => {
    expect(decide(feature("open_door"), resident)).toBe(true);
    expect(decide(feature("audit_log"), resident)).toEqual({ name: "home" });
    expect(decide(feature("nonsense"), resident)).toEqual({ name: "home" });
    expect(decide(feature("open_door"), { signedIn: true, role: null })).toEqual({ name: "home" });
  });
});

describe("safeRedirect", () => {
  it("follows paths inside the app only", () => {
    expect(safeRedirect("/audit?page=2")).toBe("/audit?page=2");
    expect(safeRedirect("//evil.example/")).toBe("/home");
    expect(safeRedirect("https://evil.example/")).toBe("/home");
    expect(safeRedirect(undefined)).toBe("/home");
  });
});
