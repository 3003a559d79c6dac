import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "@/i18n";
import {
  actionBody,
  actionProblem,
  blankAction,
  blankRule,
  checkPlan,
  checkRule,
  checkSchedule,
  checkShift,
  describeSchedule,
  describeRule,
  type LinkageRule,
  linkageEntryText,
  type RuleContext,
  type RuleForm,
  ruleBody,
  ruleToForm,
} from "@/rules";

afterEach(() => setLocale("zh-CN", { persist: false }));

const CTX: RuleContext = {
  zones: new Map([
    ["z-east", { name: "东区", devices: ["d-detector", "d-cam"] }],
    ["z-empty", { name: "地库", devices: ["d-detector"] }],
  ]),
  devices: new Map([
    ["d-detector", { name: "东侧周界 防区", kind: "intrusion_zone" }],
    ["d-cam", { name: "东侧周界 摄像机", kind: "camera" }],
    ["d-door", { name: "北门 人行通道", kind: "door_controller" }],
    ["d-speaker", { name: "1栋 广播", kind: "speaker" }],
  ]),
};

function nightIntrusion(): RuleForm {
  return {
    ...blankRule(),
    name: "东区夜间入侵",
    zone_id: "z-east",
    active_from: "22:00",
    active_until: "06:00",
    actions: [blankAction("snapshot"), blankAction("notify"), { ...blankAction("escalate"), after: "120" }],
  };
}

describe("the rule's sentence", () => {
  it("says what the brief asks, in Chinese: the zone's camera by name, on-duty guards, escalation", () => {
    expect(describeRule(nightIntrusion(), CTX)).toBe(
      "东区 入侵报警（夜间 22:00–次日 06:00）时：抓拍 东侧周界 摄像机，通知值班保安，120 秒未确认则升级通知物业管理员。",
    );
  });

  it("says the same in English", () => {
    setLocale("en", { persist: false });
    expect(describeRule(nightIntrusion(), CTX)).toBe(
      "On Intrusion in 东区 (at night, 22:00–06:00): take a snapshot with 东侧周界 摄像机, notify on-duty guards, " +
        "escalate to property managers if unacknowledged after 120 s.",
    );
  });

  it("names the guards on duty now when they are known", () => {
    const rule: RuleForm = { ...nightIntrusion(), actions: [{ ...blankAction("notify"), roles: ["guard", "police"] }] };
    expect(describeRule(rule, { ...CTX, onDuty: ["张保安", "李保安"] })).toBe(
      "东区 入侵报警（夜间 22:00–次日 06:00）时：通知值班保安（张保安、李保安）、辖区民警。",
    );
  });

  it("says which devices a rule without a zone reaches, as the linkage job picks them", () => {
    const fire: RuleForm = {
      ...blankRule(),
      alarm_type: "fire",
      actions: [blankAction("unlock"), { ...blankAction("broadcast"), text: "请从最近的楼梯撤离" }, blankAction("snapshot")],
    };
    expect(describeRule(fire, CTX)).toBe(
      "任意防区 火警时：打开 全小区的门禁，在 全小区的广播 广播“请从最近的楼梯撤离”，抓拍 报警防区的摄像机。",
    );
    setLocale("en", { persist: false });
    expect(describeRule(fire, CTX)).toBe(
      "On Fire in any zone: unlock every door of the community, broadcast “请从最近的楼梯撤离” on every speaker of the " +
        "community, take a snapshot with the alarm zone's cameras.",
    );
  });

  it("lists chosen devices by name, and warns when the zone has none that can act", () => {
    const listed: RuleForm = {
      ...nightIntrusion(),
      active_from: "08:00",
      active_until: "18:00",
      actions: [{ ...blankAction("preset"), preset: "3", devices: ["d-cam"] }, { ...blankAction("unlock"), devices: ["d-door"] }],
    };
    expect(describeRule(listed, CTX)).toBe("东区 入侵报警（08:00–18:00）时：将 东侧周界 摄像机 转到预置位 3，打开 北门 人行通道。");
    const empty = { ...listed, zone_id: "z-empty", actions: [blankAction("snapshot")] };
    expect(describeRule(empty, CTX)).toBe("地库 入侵报警（08:00–18:00）时：抓拍（防区内没有可用设备，将跳过）。");
  });

  it("reads a rule from the API the same way", () => {
    const rule: LinkageRule = {
      id: "r1",
      community_id: "c1",
      name: "东区",
      alarm_type: "perimeter",
      zone_id: "z-east",
      active_from: "22:00:00",
      active_until: "06:00:00",
      actions: [{ kind: "snapshot", devices: [] }, { kind: "escalate", after: 60, roles: ["police"] }],
      failsafe: false,
      enabled: true,
      updated_at: "2026-12-03T00:00:00Z",
    };
    expect(describeRule(ruleToForm(rule), CTX)).toBe(
      "东区 周界入侵（夜间 22:00–次日 06:00）时：抓拍 东侧周界 摄像机，60 秒未确认则升级通知辖区民警。",
    );
  });
});

describe("the rule's form", () => {
  it("sends only each action's own fields, times with seconds, no zone as null", () => {
    const body = ruleBody({ ...nightIntrusion(), zone_id: "", name: "  夜间  " }, "c1");
    expect(body).toEqual({
      community_id: "c1",
      name: "夜间",
      alarm_type: "intrusion",
      zone_id: null,
      active_from: "22:00:00",
      active_until: "06:00:00",
      actions: [
        { kind: "snapshot", devices: [] },
        { kind: "notify", roles: ["guard"], text: "" },
        { kind: "escalate", after: 120, roles: ["property_manager"] },
      ],
      failsafe: false,
      enabled: true,
    });
    expect(ruleBody({ ...nightIntrusion(), active_from: "", active_until: "" }, "c1").active_from).toBeNull();
    expect(actionBody({ ...blankAction("broadcast"), text: " 撤离 ", devices: ["d-speaker"] })).toEqual({
      kind: "broadcast",
      text: "撤离",
      devices: ["d-speaker"],
    });
  });

  it("round-trips a rule from the API", () => {
    const form = nightIntrusion();
    const back = ruleToForm({ ...ruleBody(form, "c1"), id: "r", updated_at: "" } as LinkageRule);
    expect(back).toEqual({ ...form, actions: form.actions.map((a) => ({ ...a, text: a.text })) });
  });

  it("finds what the API would refuse before it is sent", () => {
    expect(checkRule(nightIntrusion())).toEqual({});
    expect(checkRule({ ...nightIntrusion(), name: " " }).name).toBe("rules.check.nameRequired");
    expect(checkRule({ ...nightIntrusion(), active_until: "" }).window).toBe("rules.check.windowPair");
    expect(checkRule({ ...nightIntrusion(), active_until: "22:00" }).window).toBe("rules.check.windowEmpty");
    expect(checkRule({ ...nightIntrusion(), actions: [] }).actions).toBe("rules.check.actionsRequired");
    expect(checkRule({ ...nightIntrusion(), failsafe: true }).failsafe).toBe("errors.failsafe_not_supported");
    expect(checkRule({ ...nightIntrusion(), alarm_type: "fire", failsafe: true })).toEqual({});
    const many = Array.from({ length: 21 }, () => blankAction("snapshot"));
    expect(checkRule({ ...nightIntrusion(), actions: many }).actions).toBe("rules.check.tooManyActions");
  });

  it("checks each kind of action", () => {
    expect(actionProblem({ ...blankAction("preset"), preset: "0" })).toBe("rules.check.preset");
    expect(actionProblem({ ...blankAction("preset"), preset: "255" })).toBe("");
    expect(actionProblem(blankAction("broadcast"))).toBe("rules.check.broadcastText");
    expect(actionProblem({ ...blankAction("notify"), roles: [] })).toBe("rules.check.rolesRequired");
    expect(actionProblem({ ...blankAction("escalate"), after: "0" })).toBe("rules.check.after");
    expect(actionProblem({ ...blankAction("escalate"), after: "86401" })).toBe("rules.check.after");
    expect(actionProblem({ ...blankAction("escalate"), after: "1.5" })).toBe("rules.check.after");
    expect(actionProblem(blankAction("unlock"))).toBe("");
  });
});

describe("a linkage entry of an alarm's timeline", () => {
  it("names the rule, the action and how it went, in both languages", () => {
    const entry = { text: "东区夜间入侵: snapshot", data: { action: "snapshot", status: "ok", stored: 1 } };
    expect(linkageEntryText(entry)).toBe("东区夜间入侵：抓拍 · 成功");
    setLocale("en", { persist: false });
    expect(linkageEntryText(entry)).toBe("东区夜间入侵: Snapshot · done");
    expect(linkageEntryText({ text: "r: escalate", data: { action: "escalate", status: "scheduled" } })).toBe(
      "r: Escalate · scheduled",
    );
  });

  it("keeps the server's words for an action or status it does not know", () => {
    expect(linkageEntryText({ text: "规则: light", data: { action: "light", status: "dimmed" } })).toBe("规则：light · dimmed");
  });
});

describe("plans, schedules and shifts", () => {
  it("checks a plan's title and steps", () => {
    const plan = { title: "入侵处置", alarm_type: "intrusion" as const, zone_id: "", steps: ["调取视频", "到场核实"] };
    expect(checkPlan(plan)).toEqual({});
    expect(checkPlan({ ...plan, title: "" }).title).toBe("rules.check.nameRequired");
    expect(checkPlan({ ...plan, steps: [] }).steps).toBe("rules.check.stepsRequired");
    expect(checkPlan({ ...plan, steps: ["调取视频", " "] }).steps).toBe("rules.check.stepsRequired");
    expect(checkPlan({ ...plan, steps: Array.from({ length: 31 }, () => "步") }).steps).toBe("rules.check.tooManySteps");
    expect(checkPlan({ ...plan, steps: ["长".repeat(201)] }).steps).toBe("rules.check.tooLong");
  });

  it("says a schedule in both languages, overnight when disarming is earlier in the day", () => {
    const weeknights = { weekdays: [4, 0, 1, 2, 3], arm_at: "22:00:00", disarm_at: "06:00:00" };
    expect(describeSchedule(weeknights)).toBe("周一至周五 22:00 布防，次日 06:00 撤防");
    expect(describeSchedule({ weekdays: [0, 1, 2, 3, 4, 5, 6], arm_at: "08:00", disarm_at: "18:00" })).toBe(
      "每天 08:00 布防，18:00 撤防",
    );
    expect(describeSchedule({ weekdays: [5, 6], arm_at: "09:00", disarm_at: "17:00" })).toBe("周六、周日 09:00 布防，17:00 撤防");
    setLocale("en", { persist: false });
    expect(describeSchedule(weeknights)).toBe("Mon–Fri: arm 22:00, disarm 06:00 the next day");
  });

  it("checks a schedule as the API does", () => {
    expect(checkSchedule({ weekdays: [0], arm_at: "22:00", disarm_at: "06:00" })).toBe("");
    expect(checkSchedule({ weekdays: [], arm_at: "22:00", disarm_at: "06:00" })).toBe("rules.check.weekdays");
    expect(checkSchedule({ weekdays: [0], arm_at: "22:00", disarm_at: "" })).toBe("rules.check.windowPair");
    expect(checkSchedule({ weekdays: [0], arm_at: "22:00", disarm_at: "22:00" })).toBe("rules.check.windowEmpty");
  });

  it("checks a shift: a guard, an end after the start, at most seven days", () => {
    const shift = { account_id: "g1", starts_at: "2026-12-03T22:00", ends_at: "2026-12-04T06:00" };
    expect(checkShift(shift)).toEqual({});
    expect(checkShift({ ...shift, account_id: "" }).account_id).toBe("rules.check.guardRequired");
    expect(checkShift({ ...shift, ends_at: "2026-12-03T21:00" }).period).toBe("rules.check.shiftLength");
    expect(checkShift({ ...shift, ends_at: "2026-12-10T22:00" })).toEqual({});
    expect(checkShift({ ...shift, ends_at: "2026-12-10T22:01" }).period).toBe("rules.check.shiftLength");
    expect(checkShift({ ...shift, ends_at: "" }).period).toBe("rules.check.windowPair");
  });
});
