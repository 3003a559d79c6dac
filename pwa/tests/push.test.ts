import { describe, expect, it } from "vitest";
import {
  appUrl,
  base64UrlToBytes,
  FALLBACK_BODY,
  FALLBACK_TITLE,
  isUrgent,
  notificationFor,
  parsePushPayload,
  sameKey,
  subscriptionBody,
} from "@/push";

const ORIGIN = "https://anju.example.cn";

// What api/push/service.py `notify` stores for an alarm (raising.message).
const ALARM_PAYLOAD = JSON.stringify({
  id: "7b0c6f0e-3a49-4a8e-9a9c-0d5c7e1f2a3b",
  title: "【入侵报警】东区 入侵防区 · 东侧周界 防区",
  body: "请立即查看并处置。",
  url: "/alarms/5f0a",
  tag: "alarm-5f0a",
  data: { alarm_id: "5f0a", type: "intrusion", severity: "high" },
});

describe("push payload → notification options", () => {
  it("shows an alarm with its title, body, tag and page, kept on screen when severe", () => {
    const { title, options } = notificationFor(parsePushPayload(ALARM_PAYLOAD), ORIGIN);
    expect(title).toBe("【入侵报警】东区 入侵防区 · 东侧周界 防区");
    expect(options).toMatchObject({
      body: "请立即查看并处置。",
      tag: "alarm-5f0a",
      requireInteraction: true,
      renotify: false,
      data: { url: `${ORIGIN}/alarms/5f0a`, id: "7b0c6f0e-3a49-4a8e-9a9c-0d5c7e1f2a3b", alarm_id: "5f0a" },
    });
  });

  it("lets a low or medium alarm go away by itself", () => {
    const medium = parsePushPayload(JSON.stringify({ title: "t", body: "b", data: { severity: "medium" } }));
    expect(notificationFor(medium, ORIGIN).options.requireInteraction).toBe(false);
  });

  it("takes an explicit urgency over the severity", () => {
    expect(isUrgent({ data: { urgency: "high" } })).toBe(true);
    expect(isUrgent({ data: { urgency: "normal", severity: "critical" } })).toBe(false);
    expect(isUrgent({ data: { severity: "critical" } })).toBe(true);
    expect(isUrgent({ data: {} })).toBe(false);
  });

  it("uses the notification id as tag when the payload has none", () => {
    const { options } = notificationFor(parsePushPayload(JSON.stringify({ id: "n1", title: "t", body: "b" })), ORIGIN);
    expect(options.tag).toBe("n1");
    expect(options.data.url).toBe(`${ORIGIN}/`);
  });

  it("still shows something for a message it cannot read", () => {
    expect(parsePushPayload(null)).toMatchObject({ title: FALLBACK_TITLE, body: FALLBACK_BODY, url: "/" });
    expect(parsePushPayload("plain words")).toMatchObject({ title: FALLBACK_TITLE, body: "plain words" });
    expect(parsePushPayload("[1,2]")).toMatchObject({ title: FALLBACK_TITLE, body: FALLBACK_BODY });
  });

  it("never opens another site", () => {
    expect(appUrl("/alarms/1", ORIGIN)).toBe(`${ORIGIN}/alarms/1`);
    expect(appUrl("https://evil.example/x", ORIGIN)).toBe(`${ORIGIN}/`);
    expect(appUrl("//evil.example/x", ORIGIN)).toBe(`${ORIGIN}/`);
    expect(appUrl(42, ORIGIN)).toBe(`${ORIGIN}/`);
  });
});

describe("subscriptions", () => {
  it("decode the server's base64url key", () => {
    expect([...base64UrlToBytes("AQID_-8")]).toEqual([1, 2, 3, 255, 239]);
  });

  it("tell whether a subscription was made with the current key", () => {
    const key = new Uint8Array([4, 1, 2]);
    expect(sameKey(new Uint8Array([4, 1, 2]).buffer, key)).toBe(true);
    expect(sameKey(new Uint8Array([4, 1, 3]).buffer, key)).toBe(false);
    expect(sameKey(null, key)).toBe(false);
  });

  it("post toJSON() with the user agent, and the endpoint it replaces", () => {
    const json = { endpoint: "https://push.example/abc", expirationTime: null, keys: { p256dh: "P", auth: "A" } };
    expect(subscriptionBody(json, "x".repeat(300))).toEqual({
      endpoint: "https://push.example/abc",
      keys: { p256dh: "P", auth: "A" },
      user_agent: "x".repeat(200),
    });
    expect(subscriptionBody(json, "ua", "https://push.example/old").old_endpoint).toBe("https://push.example/old");
    expect(subscriptionBody(json, "ua", "https://push.example/abc")).not.toHaveProperty("old_endpoint");
    expect(() => subscriptionBody({ endpoint: "https://push.example/abc" }, "ua")).toThrow();
  });
});
