/// <reference lib="webworker" />
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import {
  base64UrlToBytes,
  CSRF_HEADER,
  CSRF_KEY,
  notificationFor,
  parsePushPayload,
  recall,
  subscriptionBody,
} from "@/push";

declare const self: ServiceWorkerGlobalScope;

// The app shell (HTML, JS, CSS, icons) is precached; API answers never are, as they carry personal data.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Every in-app URL is the same shell, so deep links open offline too.
registerRoute(new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: [/^\/api\//, /^\/schema/] }));

// The page asks for this once the user agreed to reload into the new version.
self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

// -- web push (docs/push.md) ------------------------------------------------------------------------

// Always show something: the subscription promised the browser every push is visible.
self.addEventListener("push", (event) => {
  let text: string | null;
  try {
    text = event.data?.text() ?? null;
  } catch {
    text = null;
  }
  const payload = parsePushPayload(text);
  const { title, options } = notificationFor(payload, self.location.origin);
  // A door-station call rings like a phone and stays until tapped; tapping opens /calls/<id>.
  if (payload.data.type === "call.incoming") {
    Object.assign(options, { requireInteraction: true, renotify: true, vibrate: [600, 300, 600, 300, 600] });
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

/** Bring an open window of the app to `url`, or open one. */
async function openApp(url: string): Promise<void> {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const exact = windows.find((client) => client.url === url);
  if (exact) {
    await exact.focus();
    return;
  }
  const ours = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (ours) {
    const focused = await ours.focus();
    try {
      await focused.navigate(url);
      return;
    } catch {
      // An uncontrolled window cannot be navigated from here: open a new one.
    }
  }
  await self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const url = typeof data?.url === "string" ? data.url : new URL("/", self.location.origin).href;
  event.waitUntil(openApp(url));
});

/** The CSRF token the page kept for us (the service worker cannot read cookies everywhere). */
async function csrfToken(): Promise<string | null> {
  const store = (self as unknown as { cookieStore?: { get(name: string): Promise<{ value: string } | null> } })
    .cookieStore;
  try {
    const cookie = await store?.get(CSRF_KEY);
    if (cookie?.value) return cookie.value;
  } catch {
    // No cookie store here: fall back to what the page kept.
  }
  try {
    return await recall(CSRF_KEY);
  } catch {
    return null;
  }
}

async function applicationServerKey(old: PushSubscription | null): Promise<BufferSource> {
  const known = old?.options.applicationServerKey;
  if (known) return known;
  const answer = await fetch("/api/v1/push/vapid-public-key", { credentials: "same-origin" });
  if (!answer.ok) throw new Error(`vapid key: HTTP ${answer.status}`);
  const { public_key } = (await answer.json()) as { public_key: string };
  return base64UrlToBytes(public_key);
}

/** The push service replaced the subscription: subscribe again and tell the server which one it replaces. */
async function resubscribe(event: PushSubscriptionChangeEvent): Promise<void> {
  const old = event.oldSubscription;
  const subscription =
    event.newSubscription ??
    (await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: await applicationServerKey(old),
    }));
  const token = await csrfToken();
  // If this fails (the session is over), the next start of the app posts the subscription again.
  await fetch("/api/v1/push/subscriptions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", ...(token ? { [CSRF_HEADER]: token } : {}) },
    body: JSON.stringify(subscriptionBody(subscription.toJSON(), self.navigator.userAgent, old?.endpoint)),
  });
}

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(resubscribe(event));
});
