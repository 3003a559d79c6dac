import type { Role } from "@/api/types";
import { hasPage, isCapabilityOf, isPage, type Page } from "@/roles";

/** What the guard needs to know about the route being entered. */
export interface Destination {
  name?: string | symbol | null;
  fullPath: string;
  params: Record<string, unknown>;
  meta: { public?: boolean; role?: Role; within?: Page; alsoFor?: readonly Role[] };
}

/** What the guard needs to know about the session. */
export interface Visitor {
  signedIn: boolean;
  role: Role | null;
}

export type Decision =
  | true
  | { name: "login"; query?: { redirect: string } }
  | { name: "home" };

/**
 * Where a navigation may go: signed-out callers to the login page (remembering where they were
 * going), signed-in callers away from it, and nobody into a page of a role they are not acting as
 * or of a capability their role does not have.
 */
export function decide(to: Destination, visitor: Visitor): Decision {
  if (to.meta.public) return to.name === "login" && visitor.signedIn ? { name: "home" } : true;
  if (!visitor.signedIn) {
    return to.fullPath === "/" || to.name === "home"
      ? { name: "login" }
      : { name: "login", query: { redirect: to.fullPath } };
  }
  if (to.meta.role && to.meta.role !== visitor.role) return { name: "home" };
  // A built capability's page opens only to roles that have the capability.
  if (isPage(to.name) && (visitor.role === null || !hasPage(visitor.role, to.name))) return { name: "home" };
  // A page under a capability's page (an alarm of the board) opens to the same roles, and to `alsoFor`.
  if (to.meta.within) {
    const role = visitor.role;
    if (role === null || !(hasPage(role, to.meta.within) || to.meta.alsoFor?.includes(role))) return { name: "home" };
  }
  if (to.name === "feature") {
    const key = String(to.params.key);
    if (visitor.role === null || !isCapabilityOf(visitor.role, key)) return { name: "home" };
  }
  return true;
}

/** A redirect target taken from the query string, only if it stays inside this app. */
export function safeRedirect(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : "/home";
}
