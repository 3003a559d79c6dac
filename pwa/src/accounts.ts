import type { Account, Role } from "@/api/types";

/**
 * The accounts console's rules (docs/accounts.md), the same the API enforces (三员分立): the
 * security administrator never grants an administrator's role, never changes their own roles,
 * and an administrator's account holds exactly that one role.
 */

export const ADMINISTRATORS: readonly Role[] = ["system_admin", "security_admin", "audit_admin"];

/** Roles the console grants with a community as their scope. */
export const COMMUNITY_ROLES = ["guard", "maintenance", "property_manager", "community_officer"] as const satisfies readonly Role[];
export type CommunityRole = (typeof COMMUNITY_ROLES)[number];

export function isAdministrator(account: Pick<Account, "roles">): boolean {
  return account.roles.some((r) => ADMINISTRATORS.includes(r.role));
}

/** Whether roles may be granted to or taken from this account by this caller. */
export function rolesEditable(account: Pick<Account, "id" | "roles">, callerId: string | null): boolean {
  return account.id !== callerId && !isAdministrator(account);
}

export type AccountStatus = "disabled" | "locked" | "active";

/** What the list shows first: disabled, else locked (until a time still to come), else active. */
export function accountStatus(account: Pick<Account, "is_active" | "locked_until">, now: Date): AccountStatus {
  if (!account.is_active) return "disabled";
  if (account.locked_until && new Date(account.locked_until) > now) return "locked";
  return "active";
}

/** A user name as the API takes it: 3–64 of letters, digits, `_`, `.`, `@`, `-`. */
export function checkUsername(username: string): string | null {
  return /^[A-Za-z0-9_.@-]{3,64}$/.test(username.trim()) ? null : "accounts.check.username";
}

// No look-alikes (0/O, 1/l/I): the first password is read out or copied by hand.
const PLAIN = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/**
 * A first password for a new account ("Kp7x-3mQa-9Rtz"), which its holder must change at the first
 * login; three groups mixing cases and digits, so that it meets the policy. `random` gives 0 ≤ n < 1.
 */
export function firstPassword(random: () => number = secureRandom): string {
  for (;;) {
    const groups = Array.from({ length: 3 }, () =>
      Array.from({ length: 4 }, () => PLAIN[Math.floor(random() * PLAIN.length)]).join(""),
    );
    const password = groups.join("-");
    if (/[a-z]/.test(password) && /[A-Z]/.test(password) && /\d/.test(password) && new Set(password).size >= 6) {
      return password;
    }
  }
}

function secureRandom(): number {
  const [n] = crypto.getRandomValues(new Uint32Array(1));
  return n! / 2 ** 32;
}
