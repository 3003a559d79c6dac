import { describe, expect, it, vi } from "vitest";
import { beepPattern, vibrationPattern } from "@/alert";
import type { Sos } from "@/api/types";
import { isAcknowledgement, locate, sosOpen, sosPhase, toLocation, withAcknowledgement } from "@/sos";

function sos(overrides: Partial<Sos> = {}): Sos {
  return {
    id: "s1",
    state: "new",
    raised_at: "2026-11-25T08:00:00Z",
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    timeline: [{ at: "2026-11-25T08:00:00Z", kind: "raised", by: "住户", text: "" }],
    ...overrides,
  };
}

const ack = { type: "alarm.acknowledged" as const, alarm_id: "s1", by: "张保安", at: "2026-11-25T08:00:30Z" };

describe("the resident's SOS", () => {
  it("reads as sent, acknowledged, on the way, over", () => {
    expect(["new", "acknowledged", "dispatched", "resolved", "false_alarm"].map((state) => sosPhase({ state } as Sos))).toEqual(
      ["sent", "acknowledged", "dispatched", "resolved", "falseAlarm"],
    );
    expect(sosOpen(sos())).toBe(true);
    expect(sosOpen(sos({ state: "resolved" }))).toBe(false);
  });

  it("hears its own acknowledgement only", () => {
    expect(isAcknowledgement(ack, "s1")).toBe(true);
    expect(isAcknowledgement(ack, "s2")).toBe(false);
    expect(isAcknowledgement({ type: "alarm", alarm_id: "s1" }, "s1")).toBe(false);
    expect(isAcknowledgement({ type: "alarm.acknowledged", alarm_id: "s1" }, "s1")).toBe(false);
  });

  it("shows who acknowledged at once, and never goes backwards", () => {
    const now = withAcknowledgement(sos(), ack);
    expect(now).toMatchObject({ state: "acknowledged", acknowledged_by: "张保安", acknowledged_at: ack.at });
    expect(now.timeline.map((e) => e.kind)).toEqual(["raised", "acknowledged"]);
    const resolved = sos({ state: "resolved", acknowledged_by: "李保安" });
    expect(withAcknowledgement(resolved, ack)).toBe(resolved);
  });

  it("sends the phone's position with an accuracy the API takes", () => {
    expect(toLocation({ latitude: 30.5, longitude: 104.1, accuracy: 25 })).toEqual({ lat: 30.5, lon: 104.1, accuracy: 25 });
    expect(toLocation({ latitude: 1, longitude: 2, accuracy: 1e9 }).accuracy).toBe(100_000);
    expect(toLocation({ latitude: 1, longitude: 2, accuracy: Number.NaN }).accuracy).toBeNull();
  });

  it("sends without a position when it is refused or takes too long", async () => {
    const refused = {
      getCurrentPosition: (_ok: PositionCallback, fail: PositionErrorCallback) =>
        fail({ code: 1, message: "denied" } as GeolocationPositionError),
    } as unknown as Geolocation;
    await expect(locate(5_000, refused)).resolves.toBeNull();
    await expect(locate(5_000, undefined)).resolves.toBeNull();

    vi.useFakeTimers();
    try {
      const silent = { getCurrentPosition: () => undefined } as unknown as Geolocation;
      const waiting = locate(5_000, silent);
      vi.advanceTimersByTime(5_000);
      await expect(waiting).resolves.toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("the alert of a new alarm", () => {
  it("is longer for more severe alarms", () => {
    expect(beepPattern("critical").length).toBeGreaterThan(beepPattern("high").length);
    expect(beepPattern("high").length).toBeGreaterThan(beepPattern("low").length);
    expect(vibrationPattern("critical").length).toBeGreaterThan(vibrationPattern("medium").length);
  });
});
