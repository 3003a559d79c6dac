import { describe, expect, it } from "vitest";
import { checklistOf, emptyPlan, planBody, planProblems } from "@/plans";

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
