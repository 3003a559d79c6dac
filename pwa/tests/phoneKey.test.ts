import { webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  base64,
  base64url,
  nextSeq,
  nextWindowAt,
  PHONE_KEY_SEQ_MAX,
  phoneKeyMessage,
  phoneKeyQr,
  phoneName,
  windowOf,
} from "@/phoneKey";

const CRED = "0b5e3f1c-2d4a-4e6b-8c9d-a1b2c3d4e5f6";

describe("phone key windows", () => {
  it("are 30-second steps of Unix time", () => {
    expect(windowOf(0)).toBe(0);
    expect(windowOf(29_999)).toBe(0);
    expect(windowOf(30_000)).toBe(1);
    expect(windowOf(1_700_000_000_000)).toBe(56_666_666);
    expect(nextWindowAt(56_666_666)).toBe(1_700_000_010_000);
  });

  it("number codes within a window from 0, and start again in the next", () => {
    expect(nextSeq(null, 7)).toBe(0);
    expect(nextSeq({ window: 7, seq: 0 }, 7)).toBe(1);
    expect(nextSeq({ window: 7, seq: 4 }, 8)).toBe(0);
    expect(nextSeq({ window: 7, seq: PHONE_KEY_SEQ_MAX }, 7)).toBe(PHONE_KEY_SEQ_MAX);
  });
});

describe("the canonical message", () => {
  it("is the credential, window and number, newline-separated, as the bridge rebuilds it", () => {
    // device_bridge.protocol.phone_key_message(CRED, 56666666, 3)
    expect(phoneKeyMessage(CRED, 56_666_666, 3)).toBe(`anju-phone-key/1\n${CRED}\n56666666\n3`);
  });

  it("refuses what the bridge would not read", () => {
    expect(() => phoneKeyMessage(CRED.toUpperCase(), 1, 0)).toThrow();
    expect(() => phoneKeyMessage("cred-1", 1, 0)).toThrow();
    expect(() => phoneKeyMessage(CRED, -1, 0)).toThrow();
    expect(() => phoneKeyMessage(CRED, 1.5, 0)).toThrow();
    expect(() => phoneKeyMessage(CRED, 1, PHONE_KEY_SEQ_MAX + 1)).toThrow();
  });
});

describe("the QR text", () => {
  it("carries the signed triple and a 64-byte signature in base64url", () => {
    const signature = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
    const text = phoneKeyQr(CRED, 42, 1, signature);
    expect(text).toMatch(new RegExp(`^AJ2:${CRED}\\.42\\.1\\.[A-Za-z0-9_-]{86}$`));
    expect(text.split(".")[3]).toBe(base64url(signature));
    expect(() => phoneKeyQr(CRED, 42, 1, signature.slice(0, 63))).toThrow();
  });

  it("is signed as WebCrypto signs, and verifies with the public key alone", async () => {
    const subtle = webcrypto.subtle;
    const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    expect(pair.privateKey.extractable).toBe(false);
    const message = new TextEncoder().encode(phoneKeyMessage(CRED, 42, 0));
    const signature = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, message));
    expect(signature.length).toBe(64); // r‖s, the form the bridge reads
    expect(phoneKeyQr(CRED, 42, 0, signature)).toContain(".42.0.");
    expect(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, message)).toBe(true);
    await expect(subtle.exportKey("pkcs8", pair.privateKey)).rejects.toThrow();
  });
});

describe("base64", () => {
  it("pads standard base64 and leaves base64url unpadded", () => {
    const bytes = Uint8Array.from([251, 255, 191]);
    expect(base64(bytes)).toBe("+/+/");
    expect(base64url(bytes)).toBe("-_-_");
    expect(base64(Uint8Array.from([1]))).toBe("AQ==");
    expect(base64url(Uint8Array.from([1]))).toBe("AQ");
  });
});

describe("phoneName", () => {
  it("names a phone by its kind or model", () => {
    expect(phoneName("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)")).toBe("iPhone");
    expect(phoneName("Mozilla/5.0 (Linux; Android 13; SM-S9180 Build/TP1A) Chrome/120")).toBe("SM-S9180");
    expect(phoneName("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36")).toBe("Android");
    expect(phoneName("Mozilla/5.0 (X11; Linux x86_64)")).toBe("Phone");
  });
});
