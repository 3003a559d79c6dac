import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/client";
import { setLocale } from "@/i18n";
import {
  callOffer,
  clock,
  durationLabel,
  endedCall,
  endFor,
  endForAnswerError,
  endForCaller,
  endLabel,
  incomingCall,
  intercomError,
  outcomeLabel,
  outcomeTone,
} from "@/intercom";

setLocale("zh-CN", { persist: false });

describe("incomingCall", () => {
  it("reads the platform's call.incoming", () => {
    expect(
      incomingCall({
        type: "call.incoming",
        call_id: "c1",
        station: "北门 门口机",
        station_id: "d1",
        door_name: "北门 人行通道",
        target: "household",
        reason: "visitor",
        household_label: "1栋1单元0101",
        started_at: "2026-11-25T10:00:00+00:00",
      }),
    ).toEqual({
      id: "c1",
      station: "北门 门口机",
      doorName: "北门 人行通道",
      target: "household",
      reason: "visitor",
      householdLabel: "1栋1单元0101",
      startedAt: "2026-11-25T10:00:00+00:00",
      fromApp: false,
    });
  });

  it("takes a lift's emergency call to the guard room, without a door", () => {
    const call = incomingCall({ type: "call.incoming", call_id: "c2", station: "1栋1号电梯", target: "guard_room", reason: "lift_emergency", door_name: null });
    expect(call).toMatchObject({ target: "guard_room", reason: "lift_emergency", doorName: null, householdLabel: null });
  });

  it("ignores other events and malformed ones", () => {
    expect(incomingCall({ type: "device.event" })).toBeNull();
    expect(incomingCall({ type: "call.incoming" })).toBeNull();
    expect(endedCall({ type: "call.incoming", call_id: "c1" })).toBeNull();
  });
});

describe("endFor", () => {
  const ended = (outcome: string, by: string | null = null) => endedCall({ type: "call.ended", call_id: "c1", outcome, by })!;

  it("tells a ringing phone that someone else answered or declined, or that the visitor left", () => {
    expect(endFor(ended("answered_elsewhere", "王芳"), false)).toBe("answered_elsewhere");
    expect(endFor(ended("declined", "王芳"), false)).toBe("declined_elsewhere");
    expect(endFor(ended("unanswered"), false)).toBe("missed");
    expect(endFor(ended("hangup"), false)).toBe("remote_hangup");
  });

  it("tells the answering phone how the call ended", () => {
    expect(endFor(ended("limit"), true)).toBe("limit");
    expect(endFor(ended("network"), true)).toBe("network");
    expect(endFor(ended("hangup"), true)).toBe("remote_hangup"); // the station hung up: no name
    expect(endFor(ended("hangup", "王芳"), true)).toBe("hangup"); // only the answerer hangs up by name
    expect(endFor(ended("something new"), true)).toBe("remote_hangup");
  });

  it("maps a refused answer", () => {
    expect(endForAnswerError(new ApiError(409, "call_taken", "taken"))).toBe("answered_elsewhere");
    expect(endForAnswerError(new ApiError(409, "call_not_ringing", "over"))).toBe("missed");
    expect(endForAnswerError(new ApiError(502, "media_failed", "no"))).toBe("failed");
    expect(endForAnswerError(new Error("boom"))).toBe("failed");
  });
});

describe("words and numbers", () => {
  it("runs the call's clock as m:ss", () => {
    expect(clock(0)).toBe("0:00");
    expect(clock(7.9)).toBe("0:07");
    expect(clock(90)).toBe("1:30");
    expect(clock(-3)).toBe("0:00");
  });

  it("says how long a call lasted", () => {
    expect(durationLabel(45.4)).toBe("45秒");
    expect(durationLabel(90)).toBe("1分30秒");
    expect(durationLabel(null)).toBe("0秒");
  });

  it("labels outcomes and states, with a colour", () => {
    expect(outcomeLabel("ended", "unanswered")).toBe("未接听");
    expect(outcomeLabel("ended", "hangup")).toBe("已接听");
    expect(outcomeLabel("ringing", "")).toBe("呼叫中");
    expect(outcomeLabel("ended", "new_outcome")).toBe("new_outcome");
    expect(outcomeTone("ended", "unanswered")).toBe("danger");
    expect(outcomeTone("live", "")).toBe("primary");
  });

  it("says why the screen ended, naming who when known", () => {
    expect(endLabel("answered_elsewhere", "王芳")).toBe("已由 王芳 接听");
    expect(endLabel("answered_elsewhere")).toBe("已由其他人接听");
    expect(endLabel("network")).toBe("网络中断，通话已结束");
  });

  it("explains the intercom's own error codes first", () => {
    expect(intercomError(new ApiError(409, "call_not_live", "The call is not live."))).toBe("通话已结束，无法操作");
    expect(intercomError(new ApiError(0, "network_error", "down"))).toBe("网络连接失败，请检查网络后重试");
  });
});

describe("calls placed in the app", () => {
  it("reads the answering side's offer for the caller", () => {
    expect(
      callOffer({ type: "call.offer", call_id: "c9", sdp: "v=0 offer", max_duration_s: 60, ice_servers: [], by: "李四" }),
    ).toEqual({ id: "c9", sdp: "v=0 offer", maxDurationS: 60, iceServers: [], by: "李四" });
    expect(callOffer({ type: "call.offer", call_id: "c9" })).toBeNull();
    expect(callOffer({ type: "call.ended", call_id: "c9", sdp: "x" })).toBeNull();
  });

  it("tells the caller how its own call ended", () => {
    const ended = (outcome: string) => ({ id: "c9", outcome, by: null });
    expect(endForCaller(ended("unanswered"), false)).toBe("no_answer");
    expect(endForCaller(ended("declined"), false)).toBe("rejected");
    expect(endForCaller(ended("hangup"), true)).toBe("remote_hangup");
    expect(endForCaller(ended("limit"), true)).toBe("limit");
    expect(endForCaller(ended("network"), true)).toBe("network");
  });
});
