import type { RouteLocationRaw } from "vue-router";
import type { Role, RoleAssignment } from "@/api/types";
import type { MessageSchema } from "@/i18n";

export type CapabilityKey = keyof MessageSchema["cap"];

/** The routes of built capabilities; several capabilities (of different roles) may share one. */
export const PAGES = [
  "audit",
  "doors",
  "devices",
  "bridges",
  "alarms",
  "qr",
  "visitors",
  "desk",
  "door-control",
  "access-admin",
  "access-log",
  "calls",
  "intercom",
  "cameras",
  "patrol",
  "patrol-admin",
  "workorders",
  "faults",
  "maintenance-plans",
  "video-patrol",
  "places",
  "accounts",
  "rules",
  "lane-console",
  "vehicle-admin",
  "my-cars",
  "vehicle-records",
  "vehicle-stats",
  "vehicle-warnings",
  "police-vehicles",
  "ledger",
  "residents",
  "security-policy",
  "operations",
  "handovers",
  "drills",
] as const;
export type Page = (typeof PAGES)[number];

/** One tile of a role's home grid. `page` names the route of a capability that is built already. */
export interface Capability {
  key: CapabilityKey;
  icon: string;
  page?: Page;
}

export interface Tab {
  key: string;
  label: string;
  icon: string;
  to: RouteLocationRaw;
}

export const ROLES = [
  "resident",
  "guard",
  "maintenance",
  "property_manager",
  "police",
  "community_officer",
  "system_admin",
  "security_admin",
  "audit_admin",
] as const satisfies readonly Role[];

const CAPABILITIES: Record<Role, readonly Capability[]> = {
  resident: [
    { key: "open_door", icon: "lock", page: "doors" },
    { key: "visitors", icon: "friends-o", page: "visitors" },
    { key: "pass_code", icon: "qr", page: "qr" },
    { key: "my_cars", icon: "logistics", page: "my-cars" },
    { key: "calls", icon: "phone-circle-o", page: "calls" },
    { key: "notices", icon: "bullhorn-o" },
    { key: "feedback", icon: "comment-o", page: "workorders" },
  ],
  guard: [
    { key: "alarms", icon: "warning-o", page: "alarms" },
    { key: "patrol", icon: "guide-o", page: "patrol" },
    { key: "visitor_desk", icon: "idcard", page: "desk" },
    { key: "door_control", icon: "lock", page: "door-control" },
    { key: "lane_console", icon: "logistics", page: "lane-console" },
    { key: "vehicle_admin", icon: "bars", page: "vehicle-admin" },
    { key: "work_orders", icon: "todo-list-o", page: "workorders" },
    { key: "intercom", icon: "phone-circle-o", page: "intercom" },
    { key: "video", icon: "video-o", page: "cameras" },
    { key: "video_patrol", icon: "eye-o", page: "video-patrol" },
    { key: "devices_status", icon: "desktop-o", page: "devices" },
    { key: "handover", icon: "exchange", page: "handovers" },
    { key: "om_records", icon: "records-o", page: "operations" },
    { key: "drills", icon: "fire-o", page: "drills" },
  ],
  maintenance: [
    { key: "work_orders", icon: "todo-list-o", page: "workorders" },
    { key: "device_ledger", icon: "notes-o", page: "ledger" },
    { key: "faults", icon: "warn-o", page: "faults" },
    { key: "om_records", icon: "records-o", page: "operations" },
    { key: "drills", icon: "fire-o", page: "drills" },
  ],
  property_manager: [
    { key: "alarms", icon: "warning-o", page: "alarms" },
    { key: "residents", icon: "manager-o", page: "residents" },
    { key: "places", icon: "hotel-o", page: "places" },
    { key: "access_admin", icon: "shield-o", page: "access-admin" },
    { key: "access_records", icon: "records-o", page: "access-log" },
    { key: "door_control", icon: "lock", page: "door-control" },
    { key: "lane_console", icon: "logistics", page: "lane-console" },
    { key: "vehicle_admin", icon: "bars", page: "vehicle-admin" },
    { key: "vehicle_records", icon: "orders-o", page: "vehicle-records" },
    { key: "vehicle_stats", icon: "chart-trending-o", page: "vehicle-stats" },
    { key: "vehicle_warnings", icon: "bell", page: "vehicle-warnings" },
    { key: "patrol_admin", icon: "guide-o", page: "patrol-admin" },
    { key: "work_orders", icon: "todo-list-o", page: "workorders" },
    { key: "maintenance_plans", icon: "calendar-o", page: "maintenance-plans" },
    { key: "calls", icon: "phone-circle-o", page: "calls" },
    { key: "video", icon: "video-o", page: "cameras" },
    { key: "device_map", icon: "map-marked" },
    { key: "devices_status", icon: "desktop-o", page: "devices" },
    { key: "device_ledger", icon: "notes-o", page: "ledger" },
    { key: "rules", icon: "setting-o", page: "rules" },
    { key: "om_records", icon: "records-o", page: "operations" },
    { key: "handover", icon: "exchange", page: "handovers" },
    { key: "drills", icon: "fire-o", page: "drills" },
    { key: "statistics", icon: "bar-chart-o" },
  ],
  police: [
    { key: "jurisdiction", icon: "cluster-o" },
    { key: "access_records", icon: "records-o", page: "access-log" },
    { key: "vehicles", icon: "logistics", page: "police-vehicles" },
    { key: "alarms", icon: "warning-o", page: "alarms" },
    { key: "video", icon: "video-o", page: "cameras" },
    { key: "warnings", icon: "bell" },
  ],
  community_officer: [
    { key: "jurisdiction_overview", icon: "chart-trending-o" },
    { key: "residents", icon: "manager-o", page: "residents" },
  ],
  system_admin: [
    { key: "communities", icon: "hotel-o", page: "places" },
    { key: "devices", icon: "desktop-o", page: "devices" },
    { key: "bridges", icon: "cluster-o", page: "bridges" },
  ],
  security_admin: [
    { key: "accounts", icon: "contact-o", page: "accounts" },
    { key: "security_policy", icon: "shield-o", page: "security-policy" },
  ],
  audit_admin: [{ key: "audit_log", icon: "description-o", page: "audit" }],
};

/** The capability each role uses most gets its own tab between Home and Me. */
const PRIMARY_TAB: Record<Role, CapabilityKey | null> = {
  resident: "notices",
  guard: "alarms",
  maintenance: "work_orders",
  property_manager: "statistics",
  police: "alarms",
  community_officer: null,
  system_admin: "devices",
  security_admin: "accounts",
  audit_admin: "audit_log",
};

export function capabilitiesFor(role: Role): readonly Capability[] {
  return CAPABILITIES[role];
}

export function isCapabilityOf(role: Role, key: string): boolean {
  return CAPABILITIES[role].some((capability) => capability.key === key);
}

/** Whether a role reaches a built page through one of its capabilities. */
export function hasPage(role: Role, page: Page): boolean {
  return CAPABILITIES[role].some((capability) => capability.page === page);
}

export function isPage(name: unknown): name is Page {
  return PAGES.includes(name as Page);
}

/** The capability through which a role reaches a page (its tile names the page's title). */
export function capabilityForPage(role: Role, page: Page): Capability | undefined {
  return CAPABILITIES[role].find((capability) => capability.page === page);
}

/** Where a tile leads: its own page when built, the generic coming-soon page otherwise. */
export function capabilityTarget(capability: Capability): RouteLocationRaw {
  return capability.page ? { name: capability.page } : { name: "feature", params: { key: capability.key } };
}

/** The tab bar of a role (just Home and Me for an account without one); `label` is an i18n key. */
export function tabsFor(role: Role | null): Tab[] {
  const primary = role && CAPABILITIES[role].find((capability) => capability.key === PRIMARY_TAB[role]);
  return [
    { key: "home", label: "tabs.home", icon: "wap-home-o", to: { name: "home" } },
    ...(primary
      ? [{ key: primary.key, label: `cap.${primary.key}`, icon: primary.icon, to: capabilityTarget(primary) }]
      : []),
    { key: "profile", label: "tabs.profile", icon: "user-o", to: { name: "profile" } },
  ];
}

/**
 * The side navigation of the console (≥ 1024 px): Home, every built page of the role (the first
 * tile leading to it names it), then Me; `label` is an i18n key. A phone has the tab bar instead.
 */
export function sideNavFor(role: Role | null): Tab[] {
  const built = role ? CAPABILITIES[role].filter((capability) => capability.page) : [];
  const pages = built.filter((capability, i) => built.findIndex((c) => c.page === capability.page) === i);
  return [
    { key: "home", label: "tabs.home", icon: "wap-home-o", to: { name: "home" } },
    ...pages.map((c) => ({ key: c.key, label: `cap.${c.key}`, icon: c.icon, to: capabilityTarget(c) })),
    { key: "profile", label: "tabs.profile", icon: "user-o", to: { name: "profile" } },
  ];
}

/** A stable identity for one role assignment (the same role may be held in several scopes). */
export function assignmentKey(assignment: RoleAssignment): string {
  const { role, community_id, household_id, jurisdiction_id } = assignment;
  return [role, community_id ?? "", household_id ?? "", jurisdiction_id ?? ""].join("|");
}

/** The assignment chosen earlier if the account still holds it, else the account's first. */
export function pickAssignment(
  assignments: readonly RoleAssignment[],
  preferredKey: string | null,
): RoleAssignment | null {
  return assignments.find((a) => assignmentKey(a) === preferredKey) ?? assignments[0] ?? null;
}

/** The words under a role: household for residents, community for staff. */
export function scopeLabel(assignment: RoleAssignment): string {
  return [assignment.community_name, assignment.household_label].filter(Boolean).join(" · ");
}
