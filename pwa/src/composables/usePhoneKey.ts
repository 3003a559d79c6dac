import { onScopeDispose, ref, shallowRef, type Ref } from "vue";
import { call, client } from "@/api/client";
import type { components } from "@/api/schema";
import {
  base64,
  nextSeq,
  nextWindowAt,
  phoneKeyMessage,
  phoneKeyQr,
  phoneName,
  windowOf,
  type PhoneKeyAlgorithm,
} from "@/phoneKey";

type PhoneKeyRead = components["schemas"]["PhoneKeyRead"];

/** What this browser keeps for one owner (an account, or a visitor's pass): its phone key, or
 * that the key was revoked. */
interface StoredKey {
  /** The owner (`PhoneKeyHome.owner`); the field keeps its first name, the store's key path. */
  account: string;
  credentialId: string;
  algorithm: PhoneKeyAlgorithm;
  /** Not extractable: WebCrypto signs with it, nobody can read it out. Null: revoked, forgotten. */
  privateKey: CryptoKey | null;
}

const DB_NAME = "anju-phone-key";
const STORE = "keys";

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

/**
 * The phone's own keys, one per account, in IndexedDB: made with WebCrypto (Ed25519 where the
 * browser has it, else ECDSA P-256), private halves not extractable. Clearing the browser's data
 * deletes them; the phone then registers a new key.
 */
export class PhoneKeyring {
  private db: Promise<IDBDatabase> | null = null;

  static supported(): boolean {
    return typeof indexedDB !== "undefined" && typeof crypto !== "undefined" && crypto.subtle !== undefined;
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "account" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error("IndexedDB unavailable"));
    });
    return this.db;
  }

  async load(account: string): Promise<StoredKey | null> {
    const db = await this.open();
    const found = await request(db.transaction(STORE).objectStore(STORE).get(account));
    return (found as StoredKey | undefined) ?? null;
  }

  async save(key: StoredKey): Promise<void> {
    const db = await this.open();
    await request(db.transaction(STORE, "readwrite").objectStore(STORE).put(key));
  }

  /** Forget this phone's private key when its credential was revoked (the profile's revoke). */
  async forget(account: string, credentialId: string): Promise<void> {
    const key = await this.load(account);
    if (key !== null && key.credentialId === credentialId) await this.save({ ...key, privateKey: null });
  }

  /** A new key pair: Ed25519 where the browser makes one, else ECDSA P-256. */
  async generate(): Promise<{ algorithm: PhoneKeyAlgorithm; pair: CryptoKeyPair }> {
    try {
      const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
      return { algorithm: "Ed25519", pair };
    } catch {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      return { algorithm: "ES256", pair };
    }
  }

  async sign(key: StoredKey, message: string): Promise<Uint8Array> {
    if (key.privateKey === null) throw new Error("the phone key was revoked");
    const params = key.algorithm === "Ed25519" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
    return new Uint8Array(await crypto.subtle.sign(params, key.privateKey, new TextEncoder().encode(message)));
  }

  close(): void {
    void this.db?.then((db) => db.close());
    this.db = null;
  }
}

export type PhoneKeyPhase = "checking" | "key" | "fallback";
export type FallbackReason = "unsupported" | "unregistered" | "revoked" | "failed" | null;

/** What a phone registers with its public key (`PhoneKeyCreate`). */
export interface PhoneKeyEnrolment {
  name: string;
  algorithm: PhoneKeyAlgorithm;
  public_key: string;
}

/**
 * Whose key the phone holds and where it is registered: the signed-in resident's account
 * (`residentKey`), or a visitor's pass opened from its link (PassView). One key per `owner` in
 * this browser.
 */
export interface PhoneKeyHome {
  /** The keyring's record: an account id, or "pass:<token>"; null: nobody to make a key for. */
  owner: () => string | null;
  /** Register the public key; the credential made for it. */
  enrol: (body: PhoneKeyEnrolment) => Promise<{ id: string }>;
  /** Whether the server still holds this key active (asked only when online). */
  active: (credentialId: string) => Promise<boolean>;
  /** Make and register a key on first use (the resident), or wait until asked (the visitor). */
  onFirstUse: "register" | "wait";
}

/** The resident's phone key: registered to their account on first use of 我的通行码. */
export function residentKey(account: () => string | null): PhoneKeyHome {
  return {
    owner: account,
    enrol: (body) => call(client.POST("/api/v1/access/phone-keys", { body })),
    active: async (id) => {
      const mine: PhoneKeyRead[] = await call(client.GET("/api/v1/access/phone-keys"));
      return mine.some((k) => k.id === id && k.status === "active");
    },
    onFirstUse: "register",
  };
}

/**
 * A screen's phone key: on first use it makes and registers one (or, for a visitor, when asked:
 * `register`); while the screen is open it shows the code of the current window, recomputed when
 * the window turns. With a key it works with no signal at all; without WebCrypto (or when
 * registering failed) `phase` is "fallback" and the screen shows the platform's QR. A key the
 * server says is revoked is forgotten here, and no new one is registered until the person asks.
 */
export function usePhoneKey(home: PhoneKeyHome): {
  phase: Ref<PhoneKeyPhase>;
  reason: Ref<FallbackReason>;
  qr: Ref<string | null>;
  secondsLeft: Ref<number | null>;
  register: () => Promise<void>;
  renew: () => Promise<void>;
} {
  const phase = ref<PhoneKeyPhase>("checking");
  const reason = ref<FallbackReason>(null);
  const qr = ref<string | null>(null);
  const secondsLeft = ref<number | null>(null);
  const stored = shallowRef<StoredKey | null>(null);
  let shown: { window: number; seq: number } | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let disposed = false;
  const ring = new PhoneKeyring();

  async function compute(seq: number, window: number): Promise<void> {
    const key = stored.value;
    if (key === null) return;
    const signature = await ring.sign(key, phoneKeyMessage(key.credentialId, window, seq));
    shown = { window, seq };
    qr.value = phoneKeyQr(key.credentialId, window, seq, signature);
  }

  async function tick(): Promise<void> {
    const now = Date.now();
    const window = windowOf(now);
    if (shown === null || shown.window !== window) await compute(0, window);
    secondsLeft.value = Math.max(0, Math.ceil((nextWindowAt(window) - now) / 1000));
  }

  function show(key: StoredKey): void {
    stored.value = key;
    phase.value = "key";
    reason.value = null;
    void tick();
    timer ??= setInterval(() => void tick(), 1000);
  }

  async function register(): Promise<void> {
    const who = home.owner();
    if (who === null) return;
    const { algorithm, pair } = await ring.generate();
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
    const made = await home.enrol({ name: phoneName(navigator.userAgent), algorithm, public_key: base64(spki) });
    const key: StoredKey = { account: who, credentialId: made.id, algorithm, privateKey: pair.privateKey };
    await ring.save(key);
    if (!disposed) show(key);
  }

  /** Whether the server still holds this phone's key (true when it cannot be asked: offline). */
  async function stillActive(key: StoredKey): Promise<boolean> {
    if (!navigator.onLine) return true;
    try {
      return await home.active(key.credentialId);
    } catch {
      return true; // no answer is no revocation; the bridge refuses a revoked key anyway
    }
  }

  async function start(): Promise<void> {
    const who = home.owner();
    if (!PhoneKeyring.supported() || who === null) {
      phase.value = "fallback";
      reason.value = "unsupported";
      return;
    }
    try {
      const key = await ring.load(who);
      if (key === null) {
        if (home.onFirstUse === "register") return await register(); // first use
        phase.value = "fallback";
        reason.value = "unregistered";
        return;
      }
      if (key.privateKey !== null && (await stillActive(key))) return show(key);
      // Revoked (here, on another phone, or by the property manager): the private key goes, and a
      // new one is made only when the person asks, so a revocation is not undone by itself.
      await ring.save({ ...key, privateKey: null });
      phase.value = "fallback";
      reason.value = "revoked";
    } catch {
      if (disposed || phase.value === "key") return;
      phase.value = "fallback";
      reason.value = "failed";
    }
  }

  void start();
  onScopeDispose(() => {
    disposed = true;
    if (timer !== null) clearInterval(timer);
    ring.close();
  });
  return {
    phase,
    reason,
    qr,
    secondsLeft,
    register: async () => {
      try {
        await register();
      } catch {
        reason.value = "failed";
      }
    },
    renew: async () => {
      const window = windowOf(Date.now());
      await compute(nextSeq(shown, window), window);
    },
  };
}
