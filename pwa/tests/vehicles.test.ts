import { afterEach, describe, expect, it } from "vitest";
import type { LaneStatus, PassRecord } from "@/api/types";
import { setLocale } from "@/i18n";
import {
  applyLivePass,
  byUrgency,
  carArrivals,
  decisionLabel,
  decisionTone,
  isLowConfidence,
  livePass,
  needsAnswer,
  reasonLabel,
} from "@/vehicles";

afterEach(() => setLocale("zh-CN", { persist: false }));

let serial = 0;
function pass(overrides: Partial<PassRecord> = {}): PassRecord {
  serial += 1;
  return {
    id: `p${serial}`,
    community_id: "c",
    lane_id: "lane-a",
    car_park_id: "park",
    vehicle_id: null,
    at: "2026-12-03T06:00:00Z",
    direction: "in",
    plate: "川A***45",
    colour: "blue",
    vehicle_type: "car",
    confidence: 0.97,
    decision: "held",
    reason: "unknown",
    image: "",
    decided_by: null,
    note: "",
    resolves: null,
    lane_name: "地库入口",
    visitor_pass_id: null,
    fee_fen: 0,
    paid_fen: 0,
    payment_ref: "",
    parking_order_id: null,
    unplated: false,
    ...overrides,
  };
}

function lane(id: string, name: string, last: PassRecord | null = null): LaneStatus {
  return {
    lane: {
      id,
      community_id: "c",
      car_park_id: "park",
      name,
      direction: "in",
      barrier_id: "b",
      camera_id: `cam-${id}`,
      display_id: null,
      speaker_id: null,
      fuzzy: false,
    },
    last,
    image_url: last ? "https://x/api/v1/objects/k?sig=1" : null,
  };
}

describe("the lane console's rules", () => {
  it("answers held and refused reads at a lane, never a grant, a remote lift or a read of no lane", () => {
    expect(needsAnswer(pass())).toBe(true);
    expect(needsAnswer(pass({ decision: "denied", reason: "blacklisted" }))).toBe(true);
    expect(needsAnswer(pass({ decision: "granted", reason: "resident" }))).toBe(false);
    expect(needsAnswer(pass({ decision: "held", reason: "remote_open_failed" }))).toBe(false);
    expect(needsAnswer(pass({ decision: "denied", reason: "remote_close" }))).toBe(false);
    expect(needsAnswer(pass({ lane_id: null }))).toBe(false);
  });

  it("calls a camera's read below 80% uncertain, not a guard's record or a read with no figure", () => {
    expect(isLowConfidence(pass({ confidence: 0.62 }))).toBe(true);
    expect(isLowConfidence(pass({ confidence: 0.8 }))).toBe(false);
    expect(isLowConfidence(pass({ confidence: 0 }))).toBe(false);
    expect(isLowConfidence(pass({ confidence: 0.5, decided_by: "guard" }))).toBe(false);
  });

  it("takes the pass record of a vehicle.pass event and nothing else", () => {
    const record = pass();
    expect(livePass({ type: "vehicle.pass", record })).toEqual(record);
    expect(livePass({ type: "alarm", record })).toBeNull();
    expect(livePass({ type: "vehicle.pass", record: { id: 3 } })).toBeNull();
    expect(livePass({ type: "vehicle.pass" })).toBeNull();
  });

  it("shows a live read as its lane's last unless the lane holds a later one, and drops the old snapshot", () => {
    const old = pass({ at: "2026-12-03T06:00:00Z" });
    const lanes = [lane("lane-a", "北门入口", old), lane("lane-b", "北门出口")];
    const fresh = pass({ at: "2026-12-03T06:01:00Z" });
    const applied = applyLivePass(lanes, fresh);
    expect(applied.changed).toBe(true);
    expect(applied.lanes[0]!.last).toEqual(fresh);
    expect(applied.lanes[0]!.image_url).toBeNull();
    expect(applied.lanes[1]).toBe(lanes[1]);
    const stale = applyLivePass(applied.lanes, pass({ at: "2026-12-03T05:59:00Z" }));
    expect(stale.changed).toBe(false);
    expect(stale.lanes[0]!.last).toEqual(fresh);
    expect(applyLivePass(lanes, pass({ lane_id: "elsewhere" })).changed).toBe(false);
    expect(applyLivePass(applied.lanes, fresh).changed).toBe(false); // the same read twice
  });

  it("puts lanes waiting for the guard first, then by name", () => {
    const lanes = [
      lane("1", "A 入口", pass({ decision: "granted", reason: "resident" })),
      lane("2", "B 入口", pass()),
      lane("3", "C 出口"),
    ];
    expect(byUrgency(lanes).map((s) => s.lane.id)).toEqual(["2", "1", "3"]);
  });

  it("names decisions and reasons in both languages, a failed command with its cause", () => {
    expect(decisionLabel("held")).toBe("待处理");
    expect(reasonLabel("unknown")).toBe("未登记车辆");
    expect(reasonLabel("remote_open_failed")).toBe("远程抬杆 · 道闸未执行");
    expect(reasonLabel("temporary_offline")).toBe("临时停车放行 · 网关离线");
    expect(reasonLabel("unknown_decision:x")).toBe("unknown_decision:x");
    expect(decisionTone("held")).toBe("warning");
    expect(decisionTone("denied")).toBe("danger");
    setLocale("en", { persist: false });
    expect(decisionLabel("granted")).toBe("Let in");
    expect(reasonLabel("remote_close")).toBe("Arm closed remotely");
  });
});

describe("a household's visitors' cars", () => {
  it("lists granted entries of visitor passes, newest first, with the visitor's name", () => {
    const first = pass({ visitor_pass_id: "v1", decision: "granted", reason: "visitor", lane_name: "北门", at: "2026-12-03T06:02:00Z" });
    const later = pass({ visitor_pass_id: "v2", decision: "granted", reason: "visitor", lane_name: "南门", at: "2026-12-03T07:00:00Z" });
    const out = pass({ visitor_pass_id: "v1", decision: "granted", reason: "exit", direction: "out" });
    const refused = pass({ visitor_pass_id: "v1", decision: "denied", reason: "car_park_full" });
    const own = pass({ decision: "granted", reason: "resident", vehicle_id: "car" });
    const names = new Map([["v1", "王小明"]]);
    expect(carArrivals([first, out, refused, own, later], names)).toEqual([
      { id: later.id, passId: "v2", visitor: "", at: later.at, lane: "南门" },
      { id: first.id, passId: "v1", visitor: "王小明", at: first.at, lane: "北门" },
    ]);
  });
});
