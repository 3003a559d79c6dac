import createClient, { type Middleware } from "openapi-fetch";
import { currentLocale } from "@/i18n";
import type { paths } from "./schema";

/** Every failed call surfaces as this: the server's `{code, message, extra}`, or `network_error`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const CSRF_COOKIE = "csrftoken";
const CSRF_HEADER = "x-csrftoken";
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const SESSION_ENDED = new Set(["session_expired", "not_authenticated"]);
/** Why the app sends the user back to sign in: the session ended, or its password must change first. */
export type SignInReason = "session_expired" | "password_change_required";

/** The value of a (non-httpOnly) cookie, or null when it is missing or empty. */
function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name && value.join("")) return decodeURIComponent(value.join("="));
  }
  return null;
}

/** The CSRF token the server set, for requests made outside this client (the service worker's). */
export function csrfToken(): string | null {
  return readCookie(CSRF_COOKIE);
}

// Litestar sets the CSRF cookie on any GET; a first visit may reach a POST (login) before any GET did.
const csrf: Middleware = {
  async onRequest({ request }) {
    if (!UNSAFE_METHODS.has(request.method)) return;
    let token = readCookie(CSRF_COOKIE);
    if (token === null) {
      await fetch(new URL("/api/v1/auth/me", request.url), { credentials: "same-origin" });
      token = readCookie(CSRF_COOKIE);
    }
    if (token !== null) request.headers.set(CSRF_HEADER, token);
    return request;
  },
};

// So that server-side messages come back in the language the user is reading.
const language: Middleware = {
  onRequest({ request }) {
    request.headers.set("Accept-Language", currentLocale());
    return request;
  },
};

export const client = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: "same-origin",
});
client.use(csrf, language);

let sessionEndedHandler: ((reason: SignInReason) => void) | null = null;

/**
 * Called whenever the server says the session is over (timeout or sign-out elsewhere), or that it
 * may do nothing until the password is changed (a password someone else chose, or one too old).
 */
export function onSessionEnded(handler: (reason: SignInReason) => void): void {
  sessionEndedHandler = handler;
}

function toApiError(status: number, body: unknown): ApiError {
  if (typeof body === "object" && body !== null && typeof (body as { code?: unknown }).code === "string") {
    const { code, message, extra } = body as { code: string; message?: unknown; extra?: unknown };
    const details = typeof extra === "object" && extra !== null ? (extra as Record<string, unknown>) : {};
    return new ApiError(status, code, typeof message === "string" ? message : code, details);
  }
  const code = status === 419 ? "session_expired" : status === 404 ? "not_found" : "unknown";
  return new ApiError(status, code, `HTTP ${status}`);
}

/** Await an openapi-fetch call: its data on success, otherwise a thrown ApiError. */
export async function call<Data>(
  request: Promise<{ data?: Data; error?: unknown; response: Response }>,
): Promise<Data> {
  let result: Awaited<typeof request>;
  try {
    result = await request;
  } catch (err) {
    throw new ApiError(0, "network_error", err instanceof Error ? err.message : String(err));
  }
  const { data, error, response } = result;
  if (response.ok) return data as Data;
  const failure = toApiError(response.status, error);
  if (failure.status === 419 || (failure.status === 401 && SESSION_ENDED.has(failure.code))) {
    sessionEndedHandler?.("session_expired");
  } else if (failure.status === 403 && failure.code === "password_change_required") {
    sessionEndedHandler?.("password_change_required");
  }
  throw failure;
}
