/**
 * A phone that is its own key: the pure rules of the QR codes a phone computes with its own key
 * (docs/access-app.md, docs/bridge.md). The bridge checks the same rules in
 * device_bridge/protocol.py; change both together.
 *
 * The code shown is `AJ2:<credential id>.<window>.<seq>.<signature>`: the window is
 * floor(unix seconds / 30), `seq` the code's number within the window (换一个码 moves it on), and
 * the signature (base64url, 64 bytes: ECDSA P-256 r‖s, or Ed25519) is over the canonical message
 * `anju-phone-key/1\n<credential id>\n<window>\n<seq>`. Each code passes once at a site; the
 * bridge accepts a window one step either side of its own, so a phone clock 30 s off still opens.
 */

export const PHONE_KEY_PREFIX = "AJ2:";
/** Seconds of one window. */
export const PHONE_KEY_STEP = 30;
/** The highest `seq` a window takes (device_bridge/protocol.py PHONE_KEY_SEQ_MAX). */
export const PHONE_KEY_SEQ_MAX = 999;

export type PhoneKeyAlgorithm = "ES256" | "Ed25519";

/** The window a moment (milliseconds since the epoch) falls in. */
export function windowOf(ms: number): number {
  return Math.floor(ms / 1000 / PHONE_KEY_STEP);
}

/** When the window after `window` begins, in milliseconds: the moment the code is recomputed. */
export function nextWindowAt(window: number): number {
  return (window + 1) * PHONE_KEY_STEP * 1000;
}

/** The canonical message a phone key signs for one code (ASCII, newline-separated). */
export function phoneKeyMessage(credentialId: string, window: number, seq: number): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(credentialId)) {
    throw new Error("a phone key's credential id is a lower-case UUID");
  }
  if (!Number.isSafeInteger(window) || window < 0) throw new Error("the window is a whole number");
  if (!Number.isInteger(seq) || seq < 0 || seq > PHONE_KEY_SEQ_MAX) throw new Error("seq out of range");
  return `anju-phone-key/1\n${credentialId}\n${window}\n${seq}`;
}

/** The QR text of a code: the signed triple and the signature in base64url. */
export function phoneKeyQr(credentialId: string, window: number, seq: number, signature: Uint8Array): string {
  if (signature.length !== 64) throw new Error("a phone key's signature is 64 bytes");
  phoneKeyMessage(credentialId, window, seq); // the same checks
  return `${PHONE_KEY_PREFIX}${credentialId}.${window}.${seq}.${base64url(signature)}`;
}

/** The next code's number within a window: 0 in a new window, else one more (wrapping never). */
export function nextSeq(previous: { window: number; seq: number } | null, window: number): number {
  if (previous === null || previous.window !== window) return 0;
  return Math.min(previous.seq + 1, PHONE_KEY_SEQ_MAX);
}

/** Bytes as base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Bytes as standard base64 (what registration takes for the public key). */
export function base64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

/** A name for this phone in the list of phone keys, from its user agent ("iPhone", "华为 手机"…). */
export function phoneName(userAgent: string): string {
  if (/iPhone/.test(userAgent)) return "iPhone";
  if (/iPad/.test(userAgent)) return "iPad";
  const model = /Android [\d.]+; (?:[a-z]{2}-[a-z]{2}; )?([^;)]+?)(?: Build|\))/i.exec(userAgent)?.[1]?.trim();
  if (model && model !== "K") return model.slice(0, 40);
  if (/Android/.test(userAgent)) return "Android";
  if (/Mac OS X/.test(userAgent)) return "Mac";
  if (/Windows/.test(userAgent)) return "Windows";
  return "Phone";
}
