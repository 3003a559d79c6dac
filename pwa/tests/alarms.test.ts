import { afterEach, describe, expect, it } from "vitest";
import {
  actionLabel,
  actionPath,
  ALARM_FILTERS,
  ALARM_STATES,
  ALARM_TYPES,
  alarmActionError,
  alarmIcon,
  alarmPlace,
  alarmStateLabel,
  alarmTypeLabel,
  allowedActions,
  applyLiveAlarm,
  chronological,
  FILTER_STATES,
  filterCounts,
  filterOf,
  isOpen,
  liveAlarm,
  mergeStates,
  newestFirst,
  SEVERITIES,
  severityLabel,
  stateTone,
  timelineLabel,
  uniqueById,
} from "@/alarms";
import { ApiError } from "@/api/client";
import type { Alarm, AlarmState } from "@/api/types";
import { setLocale } from "@/i18n";
import en from "@/i18n/en";
import zhCN from "@/i18n/zh-CN";

afterEach(() => setLocale("zh-CN", { persist: false }));

let serial = 0;
function alarm(overrides: Partial<Alarm> = {}): Alarm {
  serial += 1;
  return {
    id: `00000000-0000-4000-8000-${String(serial).padStart(12, "0")}`,
    community_id: "c1",
    type: "intrusion",
    severity: "high",
    state: "new",
    title: "入侵报警 · 东区 入侵防区 · 东侧周界 防区",
    location: { text: "东区 入侵防区 · 东侧周界 防区", zone: "东区 入侵防区", device: "东侧周界 防区" },
    source_device_id: null,
    zone_id: null,
    household_id: null,
    assigned_to_id: null,
    assigned_to_name: null,
    plan_id: null,
    retention: "6m",
    raised_at: `2026-11-25T08:00:${String(serial % 60).padStart(2, "0")}Z`,
    acknowledged_at: null,
    resolved_at: null,
    escalated_at: null,
    ...overrides,
  };
}

describe("alarm state → allowed actions", () => {
  it("follows the server's state machine", () => {
    expect(allowedActions("new")).toEqual(["acknowledge"]);
    expect(allowedActions("acknowledged")).toEqual(["dispatch", "resolve", "false_alarm"]);
    expect(allowedActions("dispatched")).toEqual(["resolve", "false_alarm"]);
    expect(allowedActions("resolved")).toEqual([]);
    expect(allowedActions("false_alarm")).toEqual([]);
  });

  it("posts false alarms to false-alarm", () => {
    expect(actionPath("false_alarm")).toBe("false-alarm");
    expect(actionPath("acknowledge")).toBe("acknowledge");
  });

  it("puts every state under exactly one chip", () => {
    for (const state of ALARM_STATES) {
      expect(ALARM_FILTERS.filter((f) => FILTER_STATES[f].includes(state)), state).toHaveLength(1);
    }
    expect(["new", "acknowledged", "dispatched", "resolved", "false_alarm"].map((s) => filterOf(s as AlarmState))).toEqual(
      ["new", "active", "active", "closed", "closed"],
    );
    expect(isOpen("dispatched")).toBe(true);
    expect(isOpen("false_alarm")).toBe(false);
  });

  it("colours new red, handled orange, resolved green", () => {
    expect(ALARM_STATES.map(stateTone)).toEqual(["danger", "warning", "warning", "success", "default"]);
  });
});

describe("alarm labels", () => {
  it("name every alarm type, severity, state and action in both languages", () => {
    for (const type of ALARM_TYPES) {
      expect(zhCN.alarms.types[type], type).toBeTruthy();
      expect(en.alarms.types[type], type).toBeTruthy();
      expect(alarmIcon(type), type).not.toBe("warning-o");
    }
    expect(new Set(ALARM_TYPES).size).toBe(20);
    for (const severity of SEVERITIES) expect(en.alarms.severities[severity]).toBeTruthy();
    expect(alarmTypeLabel("intrusion")).toBe("入侵报警");
    expect(alarmTypeLabel("sos")).toBe("紧急求助");
    expect(severityLabel("critical")).toBe("紧急");
    expect(alarmStateLabel("false_alarm")).toBe("误报");
    expect(actionLabel("resolve")).toBe("处理完成");
    expect(timelineLabel("step")).toBe("完成预案步骤");
    setLocale("en", { persist: false });
    expect(alarmTypeLabel("door_forced")).toBe("Door forced open");
    expect(actionLabel("false_alarm")).toBe("False alarm");
  });

  it("show a type, state or timeline kind the app does not know by its code", () => {
    expect(alarmTypeLabel("drone_sighting")).toBe("drone_sighting");
    expect(alarmStateLabel("archived")).toBe("archived");
    expect(timelineLabel("sms")).toBe("sms");
    expect(alarmIcon("drone_sighting")).toBe("warning-o");
  });

  it("say where an alarm is from its location, else from its title", () => {
    expect(alarmPlace(alarm())).toBe("东区 入侵防区 · 东侧周界 防区");
    expect(alarmPlace(alarm({ location: {}, title: "紧急求助 · 1栋1单元0101" }))).toBe("1栋1单元0101");
    expect(alarmPlace(alarm({ location: { household: "2栋1单元0302" } }))).toBe("2栋1单元0302");
  });

  it("explain a 409 with the state the alarm is in now", () => {
    const refused = new ApiError(409, "alarm_transition_not_allowed", "The alarm is acknowledged", {
      state: "acknowledged",
      to: "acknowledged",
    });
    expect(alarmActionError(refused, "acknowledge")).toBe("告警当前为“已确认”，不能再确认。页面已更新为最新状态。");
    expect(alarmActionError(new ApiError(409, "alarm_transition_not_allowed", "x"))).toBe(
      "告警状态已变化，无法执行此操作，请刷新后再试",
    );
    expect(alarmActionError(new ApiError(409, "plan_step_done", "x"))).toBe("该步骤已完成");
    setLocale("en", { persist: false });
    expect(alarmActionError(refused, "acknowledge")).toContain("“Acknowledged”");
  });
});

describe("the live board", () => {
  it("inserts a new alarm on top of its chip and ignores it elsewhere", () => {
    const older = alarm({ raised_at: "2026-11-25T08:00:00Z" });
    const fresh = alarm({ raised_at: "2026-11-25T09:00:00Z" });
    expect(applyLiveAlarm([older], fresh, "new")).toEqual({ rows: [fresh, older], change: "inserted" });
    expect(applyLiveAlarm([older], fresh, "closed")).toEqual({ rows: [older], change: "ignored" });
  });

  it("replaces a row in place, and moves it off the chip when its state leaves it", () => {
    const a = alarm();
    const b = alarm();
    const acked = { ...a, state: "acknowledged" as const, assigned_to_name: "张保安" };
    expect(applyLiveAlarm([a, b], { ...a, severity: "critical" }, "new").change).toBe("updated");
    expect(applyLiveAlarm([a, b], acked, "new")).toEqual({ rows: [b], change: "removed" });
    expect(applyLiveAlarm([b], acked, "active")).toEqual({ rows: [acked, b].sort((x, y) => y.raised_at.localeCompare(x.raised_at)), change: "inserted" });
  });

  it("keeps to the chosen alarm type", () => {
    const fire = alarm({ type: "fire" });
    expect(applyLiveAlarm([], fire, "new", "intrusion").change).toBe("ignored");
    expect(applyLiveAlarm([], fire, "new", "fire").change).toBe("inserted");
    expect(applyLiveAlarm([], fire, "new", null).change).toBe("inserted");
  });

  it("reads only alarm events", () => {
    const a = alarm();
    expect(liveAlarm({ type: "alarm", alarm: a })).toBe(a);
    expect(liveAlarm({ type: "device.event", alarm: a })).toBeNull();
    expect(liveAlarm({ type: "alarm", alarm: { nope: 1 } })).toBeNull();
  });

  it("lists newest first, each alarm once", () => {
    const a = alarm({ raised_at: "2026-11-25T08:00:00Z" });
    const b = alarm({ raised_at: "2026-11-25T10:00:00Z" });
    expect(newestFirst([a, b])).toEqual([b, a]);
    expect(uniqueById([b, a, b])).toEqual([b, a]);
  });

  it("keeps a timeline in the order things happened, raised before notified at the same instant", () => {
    const at = "2026-11-25T08:00:00Z";
    const entries = [
      { at, kind: "notified" },
      { at: "2026-11-25T08:01:00Z", kind: "acknowledged" },
      { at, kind: "raised" },
    ];
    expect(chronological(entries).map((e) => e.kind)).toEqual(["raised", "notified", "acknowledged"]);
  });
});

describe("mergeStates", () => {
  it("pages several states together, newest first, with their totals added", async () => {
    const acked = [alarm({ raised_at: "2026-11-25T10:00:00Z" }), alarm({ raised_at: "2026-11-25T07:00:00Z" })];
    const dispatched = [alarm({ raised_at: "2026-11-25T09:00:00Z" })];
    const asked: string[] = [];
    const fetch = mergeStates(["acknowledged", "dispatched"], async (state, page, size) => {
      asked.push(`${state}:${page}:${size}`);
      const all = state === "acknowledged" ? acked : dispatched;
      return { items: all.slice((page - 1) * size, page * size), total: all.length, page, page_size: size };
    });
    const first = await fetch(1, 1);
    expect(first.items).toEqual([acked[0], dispatched[0]]);
    expect(first.total).toBe(3);
    const second = await fetch(2, 1);
    expect(second.items).toEqual([acked[1]]);
    expect(asked).toEqual(["acknowledged:1:1", "dispatched:1:1", "acknowledged:2:1", "dispatched:2:1"]);
  });
});

describe("filterCounts", () => {
  it("adds the counts of each chip's states", () => {
    const byState = { new: 2, acknowledged: 1, dispatched: 3, resolved: 4, false_alarm: 5 };
    expect(filterCounts(byState)).toEqual({ new: 2, active: 4, closed: 9 });
  });

  it("counts every state under exactly one chip", () => {
    for (const state of ALARM_STATES) {
      const byState = { new: 0, acknowledged: 0, dispatched: 0, resolved: 0, false_alarm: 0, [state]: 1 };
      expect(Object.values(filterCounts(byState)).reduce((a, b) => a + b, 0)).toBe(1);
    }
  });
});
