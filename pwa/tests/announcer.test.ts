import { describe, expect, it } from "vitest";
import { announce, liveText, nextLiveText } from "@/announcer";

describe("nextLiveText", () => {
  const empty = { polite: "", assertive: "" };

  it("puts a message in the region of its politeness only", () => {
    expect(nextLiveText(empty, "告警已确认", "polite")).toEqual({ polite: "告警已确认", assertive: "" });
    expect(nextLiveText(empty, "管理处来电", "assertive")).toEqual({ polite: "", assertive: "管理处来电" });
  });

  it("changes the region for a repeat, so it is said again", () => {
    const once = nextLiveText(empty, "新告警", "assertive");
    const twice = nextLiveText(once, "新告警", "assertive");
    expect(twice.assertive).not.toBe(once.assertive);
    expect(twice.assertive.trim()).toBe("新告警");
    expect(nextLiveText(twice, "新告警", "assertive").assertive).toBe("新告警");
  });

  it("ignores blank messages and trims the rest", () => {
    expect(nextLiveText(empty, "   ", "polite")).toBe(empty);
    expect(nextLiveText(empty, "  来电 ", "polite").polite).toBe("来电");
  });
});

describe("announce", () => {
  it("updates the shared regions", () => {
    announce("访客已到达");
    announce("电梯紧急呼叫", "assertive");
    expect(liveText).toEqual({ polite: "访客已到达", assertive: "电梯紧急呼叫" });
  });
});
