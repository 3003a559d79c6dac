import { describe, expect, it } from "vitest";
import { checklistOf, emptyPlan, executionPeriod, outcomeShares, planBody, planProblems } from "@/plans";

describe("maintenance plan form", () => {
  it("starts valid but for its name", () => {
    expect(planProblems(emptyPlan("2027-03-01"))).toEqual(["name"]);
  });

  it("asks every N days for N, within 1-366", () => {
    const form = { ...emptyPlan("2027-03-01"), name: "水泵巡检", frequency: "every_n_days" as const };
    expect(planProblems(form)).toEqual(["interval_days"]);
    expect(planProblems({ ...form, interval_days: "0" })).toEqual(["interval_days"]);
    expect(planProblems({ ...form, interval_days: "10" })).toEqual([]);
  });

  it("checks the dates, the time and the horizon", () => {
    const form = { ...emptyPlan("2027-03-01"), name: "x", starts_on: "", due_time: "25:00", horizon_days: "400" };
    expect(planProblems(form)).toEqual(["starts_on", "due_time", "horizon_days"]);
  });

  it("reads the checklist one step a line, blank lines dropped", () => {
    expect(checklistOf(" 压力表在绿区 \n\n铅封完好\n")).toEqual(["压力表在绿区", "铅封完好"]);
    expect(checklistOf(Array.from({ length: 40 }, (_, i) => `步骤${i}`).join("\n"))).toHaveLength(30);
  });

  it("makes the API's body: N only every N days, seconds on the time, no assignee as null", () => {
    const form = { ...emptyPlan("2027-03-01"), name: " 灭火器月检 ", interval_days: "5", steps: "a\nb" };
    expect(planBody(form, "c1")).toMatchObject({
      community_id: "c1",
      name: "灭火器月检",
      frequency: "monthly",
      interval_days: null,
      due_time: "17:00:00",
      horizon_days: 30,
      assignee_id: null,
      checklist: ["a", "b"],
    });
    expect(planBody({ ...form, frequency: "every_n_days" }, "c1").interval_days).toBe(5);
  });
});

describe("a plan's execution", () => {
  it("reads the days up to today, inclusive", () => {
    expect(executionPeriod(30, "2027-03-31")).toEqual({ since: "2027-03-02", until: "2027-03-31" });
    expect(executionPeriod(1, "2027-03-01")).toEqual({ since: "2027-03-01", until: "2027-03-01" });
    expect(executionPeriod(365, "2028-03-01").since).toBe("2027-03-03"); // across 29 Feb
  });

  it("gives each outcome its share of the orders generated", () => {
    const figures = {
      plan_id: "p",
      since: "2027-03-01",
      until: "2027-03-31",
      generated: 8,
      done_on_time: 2,
      done_late: 1,
      overdue: 2,
      open: 2,
      cancelled: 1,
      on_time_rate: 0.4,
    };
    expect(outcomeShares(figures).map((s) => [s.outcome, s.n, s.percent])).toEqual([
      ["done_on_time", 2, 25],
      ["done_late", 1, 13],
      ["overdue", 2, 25],
      ["open", 2, 25],
      ["cancelled", 1, 13],
    ]);
    expect(outcomeShares({ ...figures, generated: 0, done_on_time: 0 }).map((s) => s.percent)).toEqual([0, 0, 0, 0, 0]);
  });
});
