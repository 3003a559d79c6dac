import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { ApiError, call, client, type SignInReason } from "@/api/client";
import type { LoginResult, Me, RoleAssignment, TotpResult } from "@/api/types";
import { setLocale, storedLocale } from "@/i18n";
import { assignmentKey, pickAssignment } from "@/roles";

const ROLE_STORAGE_KEY = "anju.role";

/** What the sign-in flow asks for next after an answer of /auth/login or /auth/totp. */
export type AuthStep = "totp" | "enrol" | "password" | "done";

export function stepFor(result: LoginResult): AuthStep {
  switch (result.state) {
    case "active":
      return "done";
    case "totp_required":
      return "totp";
    case "totp_enrolment":
      return "enrol";
    case "password_change_required":
      return "password";
  }
}

export const useSession = defineStore("session", () => {
  const me = ref<Me | null>(null);
  const loaded = ref(false);
  /** Why the user was sent back to the login page, shown there once. */
  const notice = ref<SignInReason | null>(null);
  const preferredKey = ref<string | null>(localStorage.getItem(ROLE_STORAGE_KEY));

  const assignments = computed<readonly RoleAssignment[]>(() => me.value?.roles ?? []);
  const active = computed(() => pickAssignment(assignments.value, preferredKey.value));
  const role = computed(() => active.value?.role ?? null);
  const signedIn = computed(() => me.value !== null);

  function setAccount(account: Me): void {
    me.value = account;
    notice.value = null;
    // The account's language applies until the user picks one on this device.
    if (storedLocale() === null) setLocale(account.locale, { persist: false });
  }

  function accept<R extends LoginResult>(result: R): R {
    if (result.state === "active" && result.account) setAccount(result.account);
    return result;
  }

  /** Find out who is signed in; this GET also gives the browser its CSRF cookie. */
  async function load(): Promise<void> {
    try {
      setAccount(await call(client.GET("/api/v1/auth/me")));
    } catch (err) {
      // Only an unreachable server stops the app; any answer from it means "not signed in".
      if (!(err instanceof ApiError) || err.code === "network_error") throw err;
      me.value = null;
      if (err.code === "session_expired") notice.value = "session_expired";
    }
    loaded.value = true;
  }

  async function login(username: string, password: string): Promise<LoginResult> {
    return accept(await call(client.POST("/api/v1/auth/login", { body: { username, password } })));
  }

  async function verifyTotp(code: string): Promise<TotpResult> {
    return accept(await call(client.POST("/api/v1/auth/totp", { body: { code } })));
  }

  async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const body = { current_password: currentPassword, new_password: newPassword };
    accept(await call(client.POST("/api/v1/auth/password", { body })));
  }

  async function logout(): Promise<void> {
    try {
      await call(client.POST("/api/v1/auth/logout"));
    } catch (err) {
      // An ended session is already what we want.
      if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 419)) throw err;
    }
    me.value = null;
  }

  /**
   * The server ended the session, or will serve it nothing until the password is changed: forget
   * the account and explain on the login page (signing in again leads to the password step).
   */
  function expire(reason: SignInReason = "session_expired"): void {
    me.value = null;
    notice.value = reason;
  }

  function selectAssignment(assignment: RoleAssignment): void {
    preferredKey.value = assignmentKey(assignment);
    localStorage.setItem(ROLE_STORAGE_KEY, preferredKey.value);
  }

  return {
    me,
    loaded,
    notice,
    assignments,
    active,
    role,
    signedIn,
    load,
    login,
    verifyTotp,
    changePassword,
    logout,
    expire,
    selectAssignment,
  };
});
