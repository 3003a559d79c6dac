import { afterEach, describe, expect, it } from "vitest";
import { doorOutcome } from "@/access";
import { elderActions, showsElderHome, speechFor, speechLang, storedElder } from "@/elder";
import { i18n, setLocale } from "@/i18n";
import { ROLES } from "@/roles";

afterEach(() => setLocale("zh-CN", { persist: false }));

const t = (key: string) => i18n.global.t(key);

describe("the elder home", () => {
  it("shows a resident exactly 开门, 一键求助, 访客, 呼叫记录, in that order", () => {
    const actions = elderActions("resident");
    expect(actions.map((a) => a.key)).toEqual(["open_door", "sos", "visitors", "calls"]);
    expect(actions.map((a) => t(a.label))).toEqual(["开门", "一键求助", "访客", "呼叫记录"]);
  });

  it("leads each action to its page, SOS to the confirmation on the spot", () => {
    const byKey = Object.fromEntries(elderActions("resident").map((a) => [a.key, a.to]));
    expect(byKey).toEqual({
      open_door: { name: "doors" },
      sos: undefined,
      visitors: { name: "visitors" },
      calls: { name: "calls" },
    });
  });

  it("is a resident's only: staff keep their own home", () => {
    for (const role of ROLES.filter((r) => r !== "resident")) {
      expect(elderActions(role), role).toEqual([]);
      expect(showsElderHome(true, role), role).toBe(false);
    }
    expect(showsElderHome(true, "resident")).toBe(true);
    expect(showsElderHome(false, "resident")).toBe(false);
    expect(showsElderHome(true, null)).toBe(false);
  });

  it("is on only when this device stored it on", () => {
    expect(storedElder("1")).toBe(true);
    for (const value of [null, "0", "", "true"]) expect(storedElder(value)).toBe(false);
  });
});

describe("voice prompts", () => {
  it("say the door's outcome as the screen shows it", () => {
    const opened = doorOutcome({ result: "granted" } as Parameters<typeof doorOutcome>[0]);
    expect(speechFor({ kind: "door", outcome: opened }, t)).toBe("门已打开");
    const shut = doorOutcome({ result: "failed", guards_notified: true } as Parameters<typeof doorOutcome>[0]);
    expect(speechFor({ kind: "door", outcome: shut }, t)).toBe("门未打开，已通知保安");
  });

  it("guide the SOS in plain words, Chinese first, English second", () => {
    expect(speechFor({ kind: "sos-ask" }, t)).toBe("确定要求助吗？请按红色大按钮。");
    expect(speechFor({ kind: "sos-sent" }, t)).toBe("求助已发出，保安正在赶来。");
    expect(speechLang("zh-CN")).toBe("zh-CN");
    setLocale("en", { persist: false });
    expect(speechFor({ kind: "sos-sent" }, t)).toBe("Your call for help is sent. A guard is on the way.");
    expect(speechFor({ kind: "elder-on" }, t)).toBe("Elder-friendly mode is on");
    expect(speechLang("en")).toBe("en-US");
  });
});
