/**
 * Web push, the parts shared by the page and the service worker: no DOM, no i18n, no Vue.
 * The payload is what api/push/service.py `notify` stores: {id, title, body, url, tag, data}.
 */

export interface PushPayload {
  id: string | null;
  title: string;
  body: string;
  url: string;
  tag: string | null;
  data: Record<string, unknown>;
}

/** Shown when a message cannot be read: with userVisibleOnly, every push must show something. */
export const FALLBACK_TITLE = "安居";
export const FALLBACK_BODY = "您有一条新通知，请打开安居查看。";
export const ICON = "/pwa-192x192.png";
export const BADGE = "/pwa-64x64.png";

const str = (value: unknown): string | null => (typeof value === "string" && value ? value : null);

/** The payload of a push message, whatever arrived (bad JSON, missing fields, nothing at all). */
export function parsePushPayload(text: string | null | undefined): PushPayload {
  let raw: unknown;
  try {
    raw = text ? JSON.parse(text) : null;
  } catch {
    raw = null;
  }
  const body = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const data = typeof body.data === "object" && body.data !== null ? (body.data as Record<string, unknown>) : {};
  return {
    id: str(body.id),
    title: str(body.title) ?? FALLBACK_TITLE,
    body: str(body.body) ?? (text && raw === null ? text.slice(0, 200) : FALLBACK_BODY),
    url: str(body.url) ?? "/",
    tag: str(body.tag),
    data,
  };
}

/**
 * Whether the message must stay on screen until dealt with. The payload carries no urgency of its
 * own (it is a header to the push service), so an explicit `data.urgency` decides, else the
 * alarm's severity: high and critical alarms stay.
 */
export function isUrgent(payload: Pick<PushPayload, "data">): boolean {
  const { urgency, severity } = payload.data;
  if (typeof urgency === "string") return urgency === "high";
  return severity === "high" || severity === "critical";
}

/** A URL of this app for a notification to open: same origin only, else the home page. */
export function appUrl(url: unknown, origin: string): string {
  try {
    const target = new URL(typeof url === "string" ? url : "/", origin);
    return target.origin === origin ? target.href : new URL("/", origin).href;
  } catch {
    return new URL("/", origin).href;
  }
}

export interface NotificationSpec {
  title: string;
  options: NotificationOptions & { data: { url: string; id: string | null; [key: string]: unknown } };
}

/**
 * What `showNotification` gets for a payload: the same `tag` for every copy of one message (a
 * second delivery replaces the first silently: no `renotify`), and the page to open.
 */
export function notificationFor(payload: PushPayload, origin: string): NotificationSpec {
  const urgent = isUrgent(payload);
  const options: NotificationSpec["options"] & { renotify?: boolean; vibrate?: number[] } = {
    body: payload.body,
    tag: payload.tag ?? payload.id ?? undefined,
    icon: ICON,
    badge: BADGE,
    lang: "zh-CN",
    requireInteraction: urgent,
    renotify: false,
    data: { ...payload.data, url: appUrl(payload.url, origin), id: payload.id },
  };
  if (urgent) options.vibrate = [300, 100, 300, 100, 300];
  return { title: payload.title, options };
}

/** The applicationServerKey of `pushManager.subscribe` from the server's base64url text. */
export function base64UrlToBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Whether a subscription was made with this key (after a key rotation it must be made again). */
export function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const left = new Uint8Array(a);
  return left.length === b.length && left.every((byte, i) => byte === b[i]);
}

/** The body of POST /api/v1/push/subscriptions from `PushSubscription.toJSON()`. */
export function subscriptionBody(
  json: PushSubscriptionJSON,
  userAgent: string,
  oldEndpoint?: string | null,
): { endpoint: string; keys: { p256dh: string; auth: string }; user_agent: string; old_endpoint?: string } {
  const { endpoint, keys } = json;
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new Error("incomplete push subscription");
  return {
    endpoint,
    keys: { p256dh: keys.p256dh, auth: keys.auth },
    user_agent: userAgent.slice(0, 200),
    ...(oldEndpoint && oldEndpoint !== endpoint ? { old_endpoint: oldEndpoint } : {}),
  };
}

// -- the CSRF token, where the service worker can read it ---------------------------------------

const DB_NAME = "anju";
const STORE = "kv";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Keep a small value (the CSRF token) where the service worker can read it. */
export async function keep(key: string, value: string): Promise<void> {
  const db = await openDb();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(value, key);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** A value kept by the page, or null. */
export async function recall(key: string): Promise<string | null> {
  const db = await openDb();
  try {
    return await new Promise<string | null>((resolve, reject) => {
      const request = db.transaction(STORE, "readonly").objectStore(STORE).get(key);
      request.onsuccess = () => resolve(typeof request.result === "string" ? request.result : null);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export const CSRF_KEY = "csrftoken";
export const CSRF_HEADER = "x-csrftoken";
