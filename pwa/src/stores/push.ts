import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { call, client, csrfToken } from "@/api/client";
import { base64UrlToBytes, CSRF_KEY, keep, sameKey, subscriptionBody } from "@/push";

/** How long to wait for the service worker before saying push is not available (dev server, errors). */
const READY_MS = 5_000;

export type PushFailure = "unsupported" | "denied" | "failed";

/** Why turning notifications on did not work. */
export class PushError extends Error {
  constructor(readonly reason: PushFailure) {
    super(reason);
    this.name = "PushError";
  }
}

function supported(): boolean {
  return (
    typeof window !== "undefined" &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window
  );
}

function permissionNow(): NotificationPermission {
  return supported() ? Notification.permission : "denied";
}

async function registration(): Promise<ServiceWorkerRegistration | null> {
  if (!supported()) return null;
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), READY_MS));
  return Promise.race([navigator.serviceWorker.ready, timeout]);
}

/** Let the service worker post with the session's CSRF token when the push service renews the subscription. */
async function keepCsrf(): Promise<void> {
  const token = csrfToken();
  if (token) await keep(CSRF_KEY, token).catch(() => undefined);
}

async function post(subscription: PushSubscription): Promise<void> {
  await call(
    client.POST("/api/v1/push/subscriptions", {
      body: subscriptionBody(subscription.toJSON(), navigator.userAgent),
    }),
  );
  await keepCsrf();
}

/**
 * This browser's web push subscription for the signed-in account (docs/push.md, "What the service
 * worker and the PWA must do"): on, off, re-posted on every start, forgotten before logout.
 */
export const usePush = defineStore("push", () => {
  const available = ref(supported());
  const permission = ref<NotificationPermission>(permissionNow());
  const subscribed = ref(false);
  const busy = ref(false);
  const checked = ref(false);

  /** The card on the alarm board asks for notifications while they are off and may still be allowed. */
  const canAsk = computed(() => available.value && !subscribed.value && permission.value !== "denied");

  async function current(): Promise<PushSubscription | null> {
    const reg = await registration();
    return reg ? reg.pushManager.getSubscription() : null;
  }

  /** Look at this browser's state (permission, subscription) without changing anything. */
  async function refresh(): Promise<void> {
    permission.value = permissionNow();
    try {
      subscribed.value = permission.value === "granted" && (await current()) !== null;
    } catch {
      subscribed.value = false;
    }
    checked.value = true;
  }

  /** Ask for permission if needed, subscribe with the platform's key, and register with the server. */
  async function subscribe(): Promise<void> {
    if (!available.value) throw new PushError("unsupported");
    busy.value = true;
    try {
      permission.value = await Notification.requestPermission();
      if (permission.value !== "granted") throw new PushError("denied");
      const { public_key } = await call(client.GET("/api/v1/push/vapid-public-key"));
      const key = base64UrlToBytes(public_key);
      const reg = await registration();
      if (!reg) throw new PushError("unsupported");
      let subscription = await reg.pushManager.getSubscription();
      // A subscription made with an earlier key would be refused by the push service.
      if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      await post(subscription);
      subscribed.value = true;
    } catch (err) {
      if (err instanceof PushError) throw err;
      throw new PushError("failed");
    } finally {
      busy.value = false;
    }
  }

  /** Stop notifications on this browser: the server forgets it first, then the browser. */
  async function unsubscribe(): Promise<void> {
    busy.value = true;
    try {
      const subscription = await current();
      if (subscription) {
        await call(client.DELETE("/api/v1/push/subscriptions", { body: { endpoint: subscription.endpoint } })).catch(
          () => undefined, // already forgotten (404) or the session is over: the browser still lets go
        );
        await subscription.unsubscribe();
      }
      subscribed.value = false;
    } finally {
      busy.value = false;
    }
  }

  /**
   * On every start while signed in: post an existing subscription again (it may belong to the
   * previous user of this phone, or the server may have dropped it); subscribe when notifications
   * are allowed but there is none. Never fails loudly.
   */
  async function sync(): Promise<void> {
    await refresh();
    if (!available.value || permission.value !== "granted") return;
    try {
      const subscription = await current();
      if (subscription) {
        await post(subscription);
        subscribed.value = true;
      } else {
        await subscribe();
      }
    } catch {
      // Offline, or the push service refused: the toggle on the profile page shows it is off.
      await refresh();
    }
  }

  /** Before logout: a shared phone must not show the last user's alarms. */
  async function forget(): Promise<void> {
    permission.value = permissionNow();
    // Without permission there is no subscription to forget (and no reason to wait for the worker).
    if (!available.value || permission.value !== "granted") return;
    try {
      await unsubscribe();
    } catch {
      // Logging out matters more.
    }
  }

  return { available, permission, subscribed, busy, checked, canAsk, refresh, subscribe, unsubscribe, sync, forget };
});
