import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/client";
import type { PatrolRound } from "@/api/types";
import {
  complianceQuery,
  complianceRange,
  csvUrl,
  currentRound,
  delivery,
  emptyPlan,
  formatLeft,
  formatRate,
  labelsUrl,
  lastDays,
  newScan,
  orderRounds,
  PHONE_ID_KEY,
  phoneId,
  planBody,
  planChanges,
  planForm,
  planProblems,
  progress,
  readCode,
  refusalReason,
  scanBody,
  settled,
  timeLeft,
  toggleStop,
  uuid4,
} from "@/patrol";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const MIN = 60_000;

function round(status: PatrolRound["status"], startsIn: number, changes: Partial<PatrolRound> = {}): PatrolRound {
  const starts = NOW + startsIn * MIN;
  return {
    id: `${status}-${startsIn}`,
    community_id: "c",
    plan_id: "p",
    route_name: "外围",
    guards: [],
    starts_at: new Date(starts).toISOString(),
    due_at: new Date(starts + 30 * MIN).toISOString(),
    closes_at: new Date(starts + 40 * MIN).toISOString(),
    ended_at: null,
    status,
    checkpoints: [
      { id: "a", name: "东门", scanned_at: "2026-12-03T11:50:00Z", late: false, flags: [], needs_photo: false, needs_note: false },
      { id: "b", name: "车库", scanned_at: null, late: false, flags: [], needs_photo: false, needs_note: false },
    ],
    next_checkpoint_id: "b",
    summary: null,
    alarm_id: null,
    ...changes,
  };
}

describe("which round to walk", () => {
  it("is the earliest under way, else the next to begin, else none", () => {
    const ended = round("ended", -120);
    const late = round("overdue", -35);
    const open = round("open", -10);
    const next = round("upcoming", 50);

    expect(currentRound([next, open, late, ended])?.id).toBe(late.id);
    expect(currentRound([ended, next])?.id).toBe(next.id);
    expect(currentRound([ended])).toBeNull();
    expect(orderRounds([ended, next, open]).map((r) => r.status)).toEqual(["open", "upcoming", "ended"]);
  });

  it("counts down to when it is due, then to when late scans stop counting", () => {
    expect(timeLeft(round("open", -10), NOW)).toBe(20 * MIN);
    expect(timeLeft(round("overdue", -35), NOW)).toBe(5 * MIN);
    expect(timeLeft(round("upcoming", 50), NOW)).toBe(50 * MIN);
    expect(timeLeft(round("ended", -120), NOW)).toBeNull();
    expect(timeLeft(round("open", -31), NOW)).toBe(0); // the status catches up at the next load
    expect(formatLeft(20 * MIN + 5_000)).toBe("20:05");
    expect(formatLeft(62 * MIN)).toBe("1:02:00");
    expect(progress(round("open", -10))).toEqual({ done: 1, total: 2 });
  });
});

describe("a scan", () => {
  it("keeps the code it read, trimmed, and nothing that is not one", () => {
    expect(readCode("  anju-cp:abc \n")).toBe("anju-cp:abc");
    expect(readCode("   ")).toBeNull();
    expect(readCode("x".repeat(129))).toBeNull();
  });

  it("gets its id and the phone's time when made, and its sending time when sent", () => {
    const scan = newScan("anju-cp:abc", { roundId: "r", phone: "p1", now: NOW, id: "id-1", note: " 门已锁 " });
    const body = scanBody(scan, NOW + 30 * MIN);

    expect(scan).toEqual({
      id: "id-1",
      code: "anju-cp:abc",
      scanned_at: "2026-12-03T12:00:00.000Z",
      phone: "p1",
      round_id: "r",
      note: "门已锁",
    });
    expect(body.sent_at).toBe("2026-12-03T12:30:00.000Z");
    expect(body.scanned_at).toBe(scan.scanned_at); // sending later does not move the scan
    const pictured = newScan("c", { roundId: null, phone: "p1", now: NOW, id: "id-2", photo: "/9j/4AAQ" });
    expect(pictured.photo).toEqual({ content_type: "image/jpeg", data: "/9j/4AAQ" });
  });

  it("leaves the queue once the server answered for it, and stays while nothing was said", () => {
    const refused = new ApiError(409, "scan_refused", "no", { reason: "unknown_code", scan_id: "x" });
    const cases: [unknown, string][] = [
      [null, "accepted"],
      [refused, "refused"],
      [new ApiError(422, "invalid_body", "bad"), "rejected"],
      [new ApiError(0, "network_error", "offline"), "retry"],
      [new ApiError(503, "unknown", "down"), "retry"],
      [new ApiError(401, "session_expired", "again"), "retry"],
      [new TypeError("fetch failed"), "retry"],
    ];

    for (const [err, outcome] of cases) expect(delivery(err)).toBe(outcome);
    expect(settled("accepted") && settled("refused") && settled("rejected")).toBe(true);
    expect(settled("retry")).toBe(false);
    expect(refusalReason(refused)).toBe("unknown_code");
    expect(refusalReason(new Error("x"))).toBe("unknown");
  });
});

describe("the phone", () => {
  it("keeps one id for good", () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    let made = 0;

    const first = phoneId(storage, () => `phone-${++made}`);
    const second = phoneId(storage, () => `phone-${++made}`);

    expect(first).toBe("phone-1");
    expect(second).toBe("phone-1");
    expect(store.get(PHONE_ID_KEY)).toBe("phone-1");
  });

  it("makes version 4 UUIDs", () => {
    const id = uuid4((b) => b.fill(0xff));

    expect(id).toBe("ffffffff-ffff-4fff-bfff-ffffffffffff");
    expect(uuid4()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("setting a patrol up", () => {
  it("orders a route's checkpoints in the order they are ticked", () => {
    let order: string[] = [];
    for (const id of ["c", "a", "b", "a"]) order = toggleStop(order, id);

    expect(order).toEqual(["c", "b"]);
  });

  it("checks a plan before sending it, and sends times with seconds", () => {
    const form = { ...emptyPlan(), name: " 夜间外围 ", routeId: "r", guards: ["g"] };

    expect(planProblems(form)).toEqual({});
    expect(planProblems({ ...form, name: " ", routeId: "" })).toEqual({
      name: "patrol.admin.problems.name",
      route: "patrol.admin.problems.route",
    });
    expect(planProblems({ ...form, nightStarts: "06:00" }).times).toBeDefined();
    expect(planProblems({ ...form, nightEvery: 30 }).fit).toBeDefined(); // 30 + 10 > 30
    expect(planBody(form)).toEqual({
      route_id: "r",
      name: "夜间外围",
      guards: ["g"],
      day_starts: "06:00:00",
      night_starts: "20:00:00",
      day_every: 120,
      night_every: 60,
      round_minutes: 30,
      grace_minutes: 10,
      active: true,
    });
  });
});

describe("compliance", () => {
  it("takes whole local days and refuses a backwards or too long range", () => {
    const range = complianceRange("2026-12-01", "2026-12-03");
    expect(range).not.toBeNull();
    expect(Date.parse(range!.until) - Date.parse(range!.since)).toBe(3 * 86_400_000);
    expect(complianceRange("2026-12-03", "2026-12-01")).toBeNull();
    expect(complianceRange("2025-01-01", "2026-12-01")).toBeNull();
    expect(complianceRange("", "2026-12-01")).toBeNull();
  });

  it("starts with the last week", () => {
    expect(lastDays(7, new Date(2026, 11, 3))).toEqual({ from: "2026-11-27", to: "2026-12-03" });
  });

  it("exports the same rows as CSV, every page", () => {
    const query = complianceQuery("c", { since: "s", until: "u" }, "route", 3, 20);
    expect(query).toEqual({ community_id: "c", since: "s", until: "u", by: "route", page: 3, page_size: 20 });
    expect(csvUrl(query)).toBe("/api/v1/patrol/compliance/csv?community_id=c&by=route&since=s&until=u");
  });

  it("shows a rate as a percentage", () => {
    expect(formatRate(0.6667)).toBe("66.7%");
    expect(formatRate(1)).toBe("100.0%");
  });
});

describe("editing a plan", () => {
  it("fills the form from the plan and sends back all but its route and pause", () => {
    const form = planForm({
      id: "p",
      community_id: "c",
      route_id: "r",
      name: "夜巡",
      guards: ["g"],
      day_starts: "06:00:00",
      night_starts: "20:00:00",
      day_every: 120,
      night_every: 60,
      round_minutes: 30,
      grace_minutes: 10,
      active: false,
    });
    expect(form).toMatchObject({ routeId: "r", dayStarts: "06:00", nightStarts: "20:00", guards: ["g"] });
    const changes = planChanges({ ...form, nightEvery: 45 });
    expect(changes).toEqual({
      name: "夜巡",
      guards: ["g"],
      day_starts: "06:00:00",
      night_starts: "20:00:00",
      day_every: 120,
      night_every: 45,
      round_minutes: 30,
      grace_minutes: 10,
    });
  });
});

describe("labelsUrl", () => {
  it("asks for a route's or an area's label sheet", () => {
    expect(labelsUrl({ route_id: "r1" })).toBe("/api/v1/patrol/checkpoints/labels?route_id=r1");
    expect(labelsUrl({ area_id: "a 1" })).toBe("/api/v1/patrol/checkpoints/labels?area_id=a+1");
  });
});
