import { createPinia, setActivePinia } from "pinia";
import { beforeEach, describe, expect, it, vi } from "vitest";

// openapi-fetch takes the global fetch when the client module loads, so stub it before any import.
const fetchMock = vi.hoisted(() => {
  const mock = vi.fn<(input: Request | string, init?: RequestInit) => Promise<Response>>();
  globalThis.fetch = mock as unknown as typeof fetch;
  return mock;
});

const { ApiError, call, client, onSessionEnded } = await import("@/api/client");
const { describeError } = await import("@/errors");
const { currentLocale, setLocale } = await import("@/i18n");
const { stepFor, useSession } = await import("@/stores/session");

const ME = {
  id: "7f1c7e4e-2b0a-4d7c-9d43-5d1e9d1c0a11",
  username: "wang",
  display_name: "王芳",
  locale: "en",
  roles: [
    {
      role: "resident",
      community_id: "c1",
      community_name: "幸福里",
      household_id: "h1",
      household_label: "3栋2单元401",
      jurisdiction_id: null,
    },
    {
      role: "guard",
      community_id: "c1",
      community_name: "幸福里",
      household_id: null,
      household_label: null,
      jurisdiction_id: null,
    },
  ],
} as const;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

/** The requests the client made, as Request objects. */
function requests(): Request[] {
  return fetchMock.mock.calls.map(([input, init]) => (input instanceof Request ? input : new Request(input, init)));
}

function clearCookies(): void {
  for (const part of document.cookie.split(";")) {
    const name = part.split("=")[0]?.trim();
    if (name) document.cookie = `${name}=; max-age=0`;
  }
}

beforeEach(() => {
  fetchMock.mockReset();
  clearCookies();
  localStorage.clear();
  setLocale("zh-CN", { persist: false });
  setActivePinia(createPinia());
});

describe("load", () => {
  it("signs in the account the server knows", async () => {
    fetchMock.mockResolvedValueOnce(json(200, ME));
    const session = useSession();
    await session.load();
    expect(session.signedIn).toBe(true);
    expect(session.role).toBe("resident");
    expect(requests()[0]?.credentials).toBe("same-origin");
  });

  it("treats 401 as signed out, and explains an expired session", async () => {
    fetchMock.mockResolvedValueOnce(json(401, { code: "session_expired", message: "expired" }));
    const session = useSession();
    await session.load();
    expect(session.loaded).toBe(true);
    expect(session.signedIn).toBe(false);
    expect(session.notice).toBe("session_expired");
  });

  it("treats any other answer as signed out too", async () => {
    fetchMock.mockResolvedValueOnce(new Response("<h1>Not Found</h1>", { status: 404 }));
    const session = useSession();
    await session.load();
    expect(session.signedIn).toBe(false);
    expect(session.notice).toBeNull();
  });

  it("reports an unreachable server as a network error", async () => {
    fetchMock.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    await expect(useSession().load()).rejects.toMatchObject({ code: "network_error", status: 0 });
  });

  it("adopts the account's language unless this device chose one", async () => {
    fetchMock.mockResolvedValueOnce(json(200, ME));
    await useSession().load();
    expect(currentLocale()).toBe("en");

    setLocale("zh-CN");
    fetchMock.mockResolvedValueOnce(json(200, ME));
    await useSession().load();
    expect(currentLocale()).toBe("zh-CN");
  });
});

describe("login", () => {
  it("sends the CSRF cookie back as a header", async () => {
    document.cookie = "csrftoken=tok123";
    fetchMock.mockResolvedValueOnce(json(200, { state: "active", account: ME, otpauth_uri: null }));
    await useSession().login("wang", "secret");
    const [request] = requests();
    expect(request?.method).toBe("POST");
    expect(request?.headers.get("x-csrftoken")).toBe("tok123");
    expect(await request?.json()).toEqual({ username: "wang", password: "secret" });
  });

  it("fetches the CSRF cookie first when the browser has none", async () => {
    fetchMock.mockImplementationOnce(async () => {
      document.cookie = "csrftoken=fresh";
      return json(401, { code: "not_authenticated", message: "" });
    });
    fetchMock.mockResolvedValueOnce(json(200, { state: "totp_required", account: null, otpauth_uri: null }));
    await useSession().login("wang", "secret");
    const [bootstrap, login] = requests();
    expect(bootstrap?.method).toBe("GET");
    expect(new URL(bootstrap!.url).pathname).toBe("/api/v1/auth/me");
    expect(login?.headers.get("x-csrftoken")).toBe("fresh");
  });

  it("stays signed out until the second factor is verified", async () => {
    document.cookie = "csrftoken=tok";
    const session = useSession();
    fetchMock.mockResolvedValueOnce(json(200, { state: "totp_required", account: null, otpauth_uri: null }));
    expect(stepFor(await session.login("wang", "secret"))).toBe("totp");
    expect(session.signedIn).toBe(false);

    fetchMock.mockResolvedValueOnce(json(200, { state: "active", account: ME, otpauth_uri: null }));
    expect(stepFor(await session.verifyTotp("123456"))).toBe("done");
    expect(session.signedIn).toBe(true);
  });

  it("turns an error body into an ApiError with its code and details", async () => {
    document.cookie = "csrftoken=tok";
    const lockedUntil = "2026-11-25T10:00:00Z";
    fetchMock.mockResolvedValueOnce(
      json(423, { code: "account_locked", message: "locked", extra: { locked_until: lockedUntil } }),
    );
    const failure = await useSession()
      .login("wang", "wrong")
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 423, code: "account_locked", extra: { locked_until: lockedUntil } });
    expect(describeError(failure)).toMatch(/^账号已被锁定，请于 .+ 之后再试$/);
  });
});

describe("stepFor", () => {
  it("maps every server state to a step of the sign-in flow", () => {
    const result = (state: "active" | "totp_required" | "totp_enrolment" | "password_change_required") => ({
      state,
      account: null,
      otpauth_uri: null,
      recovery_codes: null,
    });
    expect(stepFor(result("totp_required"))).toBe("totp");
    expect(stepFor(result("totp_enrolment"))).toBe("enrol");
    expect(stepFor(result("password_change_required"))).toBe("password");
    expect(stepFor(result("active"))).toBe("done");
  });
});

describe("session end", () => {
  it("calls the session-ended handler on 419", async () => {
    const ended = vi.fn();
    onSessionEnded(ended);
    document.cookie = "csrftoken=tok";
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 419 }));
    await expect(useSession().verifyTotp("123456")).rejects.toMatchObject({ code: "session_expired" });
    expect(ended).toHaveBeenCalledOnce();
  });

  it("sends the user back to sign in when the password must change first", async () => {
    const ended = vi.fn();
    onSessionEnded(ended);
    fetchMock.mockResolvedValueOnce(json(200, ME));
    const session = useSession();
    await session.load(); // "me" answers during a forced password change; nothing else does
    fetchMock.mockResolvedValueOnce(json(403, { code: "password_change_required", message: "" }));
    await expect(call(client.GET("/api/v1/accounts", { params: { query: {} } }))).rejects.toMatchObject({ code: "password_change_required" });
    expect(ended).toHaveBeenCalledWith("password_change_required");
    session.expire("password_change_required");
    expect(session.signedIn).toBe(false);
    expect(session.notice).toBe("password_change_required");
    expect(describeError(new ApiError(403, "password_change_required", ""))).toBe(
      "Your password must be changed first. Sign in again to set a new one",
    );
  });

  it("does not treat a wrong password as the end of a session", async () => {
    const ended = vi.fn();
    onSessionEnded(ended);
    document.cookie = "csrftoken=tok";
    fetchMock.mockResolvedValueOnce(json(401, { code: "invalid_credentials", message: "" }));
    await expect(useSession().login("wang", "nope")).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(ended).not.toHaveBeenCalled();
  });
});

describe("selectAssignment", () => {
  it("acts as the chosen role, and still does after a reload", async () => {
    fetchMock.mockImplementation(async () => json(200, ME));
    const session = useSession();
    await session.load();
    session.selectAssignment(session.assignments[1]!);
    expect(session.role).toBe("guard");

    setActivePinia(createPinia());
    const reloaded = useSession();
    await reloaded.load();
    expect(reloaded.role).toBe("guard");
  });
});
