import { describe, expect, it } from "vitest";
import type { WorkOrder, WorkOrderPart } from "@/api/types";
import { actionsFor, addsParts, allowed, minutesLeft, moveProblems, orderCost, partsSummary, reportProblems, returnable, stateTone, trackStep, works } from "@/workorders";

const ME = "00000000-0000-0000-0000-000000000001";
const OTHER = "00000000-0000-0000-0000-000000000002";

function order(fields: Partial<WorkOrder> = {}): WorkOrder {
  return {
    id: "o1",
    community_id: "c1",
    kind: "repair",
    priority: "normal",
    state: "new",
    waiting_for: "",
    title: "漏水",
    description: "",
    device_id: null,
    device_name: null,
    fault: null,
    repeats: 1,
    last_seen_at: null,
    previous_id: null,
    household_id: null,
    requested_by: OTHER,
    assignee_id: null,
    assignee_name: null,
    created_at: "2026-12-03T00:00:00Z",
    due_at: "2026-12-04T00:00:00Z",
    overdue: false,
    escalated_at: null,
    done_at: null,
    closed_at: null,
    cause: "",
    report: "",
    rating: null,
    rating_note: "",
    plan_id: null,
    due_on: null,
    checklist: [],
    signature_required: false,
    signed: false,
    cancel_reason: "",
    external_cost: null,
    external_cost_note: "",
    ...fields,
  };
}

describe("work order moves", () => {
  it("follow the API's transitions", () => {
    expect(allowed("new", "in_progress")).toBe(false);
    expect(allowed("assigned", "in_progress")).toBe(true);
    expect(allowed("done", "closed")).toBe(true);
    expect(allowed("closed", "cancelled")).toBe(false);
  });

  it("give the assignee the work and the manager the rest", () => {
    const mine = order({ state: "in_progress", assignee_id: ME });
    expect(actionsFor(mine, { role: "maintenance", accountId: ME })).toEqual(["waiting", "done"]);
    expect(actionsFor(mine, { role: "maintenance", accountId: OTHER })).toEqual([]);
    expect(actionsFor(mine, { role: "property_manager", accountId: OTHER })).toEqual(["assign", "cancelled"]);
    expect(actionsFor(order({ state: "done" }), { role: "property_manager", accountId: OTHER })).toEqual([
      "in_progress",
      "closed",
    ]);
  });

  it("let maintenance take a new order and the requester withdraw it, then rate it once done", () => {
    expect(actionsFor(order(), { role: "maintenance", accountId: ME })).toEqual(["take"]);
    expect(actionsFor(order({ requested_by: ME }), { role: "resident", accountId: ME })).toEqual(["cancelled"]);
    const done = order({ state: "done", requested_by: ME });
    expect(actionsFor(done, { role: "resident", accountId: ME })).toEqual(["rate"]);
    expect(actionsFor({ ...done, rating: 4 }, { role: "resident", accountId: ME })).toEqual([]);
    expect(actionsFor(done, { role: "resident", accountId: OTHER })).toEqual([]);
  });

  it("let only the assignee work an order being worked", () => {
    expect(works(order({ state: "in_progress", assignee_id: ME }), { role: "maintenance", accountId: ME })).toBe(true);
    expect(works(order({ state: "done", assignee_id: ME }), { role: "maintenance", accountId: ME })).toBe(false);
  });
});

describe("a move's form", () => {
  it("needs the closing report for done and what for when waiting", () => {
    expect(moveProblems({ to: "done", cause: " ", report: "换灯" })).toEqual(["cause"]);
    expect(moveProblems({ to: "waiting" })).toEqual(["waiting_for"]);
    expect(moveProblems({ to: "waiting", waiting_for: "parts" })).toEqual([]);
  });
});

describe("due time", () => {
  it("counts minutes left, negative once overdue", () => {
    const o = order({ due_at: "2026-12-03T01:00:00Z" });
    expect(minutesLeft(o, Date.parse("2026-12-03T00:30:00Z"))).toBe(30);
    expect(minutesLeft(o, Date.parse("2026-12-03T01:10:00Z"))).toBe(-10);
    expect(stateTone("waiting")).toBe("warning");
  });
});

describe("parts used", () => {
  const part = (fields: Partial<WorkOrderPart>): WorkOrderPart => ({
    part_id: "p1",
    code: "P-1",
    name: "灯管",
    unit: "根",
    kind: "used",
    quantity: 1,
    unit_cost: null,
    cost: null,
    actor_name: null,
    at: "2026-12-03T00:00:00Z",
    ...fields,
  });

  it("are added by the assignee or a manager while the order is worked or done, never after", () => {
    const fixer = { role: "maintenance" as const, accountId: ME };
    const manager = { role: "property_manager" as const, accountId: OTHER };
    expect(addsParts(order({ state: "in_progress", assignee_id: ME }), fixer)).toBe(true);
    expect(addsParts(order({ state: "waiting", assignee_id: ME }), fixer)).toBe(true);
    expect(addsParts(order({ state: "done", assignee_id: ME }), fixer)).toBe(true);
    expect(addsParts(order({ state: "in_progress", assignee_id: OTHER }), fixer)).toBe(false);
    expect(addsParts(order({ state: "assigned", assignee_id: ME }), fixer)).toBe(false);
    expect(addsParts(order({ state: "closed", assignee_id: ME }), fixer)).toBe(false);
    expect(addsParts(order({ state: "done" }), manager)).toBe(true);
    expect(addsParts(order({ state: "in_progress" }), { role: "resident", accountId: OTHER })).toBe(false);
  });

  it("are summed per part for the closing report", () => {
    const summary = partsSummary([part({ quantity: 2 }), part({ part_id: "p2", name: "启辉器", unit: "个" }), part({ quantity: 1 })]);
    expect(summary).toEqual([
      { name: "灯管", unit: "根", quantity: 3 }, // dēng before qǐ
      { name: "启辉器", unit: "个", quantity: 1 },
    ]);
  });

  it("cost their parts at the price they were taken at plus the external cost", () => {
    const parts = [part({ unit_cost: 3550, cost: 7100, quantity: 2 }), part({ part_id: "p2" }), part({ cost: 12000 })];
    expect(orderCost({ ...order({ external_cost: 80000 }), parts })).toEqual({ parts: 19100, external: 80000, total: 99100, unpriced: 1 });
    expect(orderCost({ ...order(), parts: [] })).toEqual({ parts: 0, external: 0, total: 0, unpriced: 0 });
  });

  it("net the parts returned out of the summary, the cost and what may still be returned", () => {
    const parts = [
      part({ quantity: 3, unit_cost: 1000, cost: 3000 }),
      part({ part_id: "p2", name: "启辉器", quantity: 1 }),
      part({ kind: "returned", quantity: -2, unit_cost: 1000, cost: -2000 }),
      part({ part_id: "p2", name: "启辉器", kind: "returned", quantity: -1 }),
    ];
    expect(partsSummary(parts)).toEqual([{ name: "灯管", unit: "根", quantity: 1 }]); // 启辉器 all back
    expect(orderCost({ ...order(), parts })).toEqual({ parts: 1000, external: 0, total: 1000, unpriced: 1 });
    expect([returnable(parts, "p1"), returnable(parts, "p2"), returnable(parts, "p3")]).toEqual([1, 0, 0]);
  });
});

describe("the public report page", () => {
  it("needs a description and a mainland mobile number", () => {
    expect(reportProblems({ description: "灯不亮", phone: "138 1234 5678" })).toEqual({});
    expect(reportProblems({ description: " ", phone: "12345" })).toEqual({ description: "report.errors.description", phone: "errors.invalid_phone" });
  });

  it("follows the request from the office's review to the order's state", () => {
    expect(trackStep({ status: "pending", order_state: null })).toBe("pending");
    expect(trackStep({ status: "rejected", order_state: null })).toBe("rejected");
    expect(trackStep({ status: "approved", order_state: "in_progress" })).toBe("in_progress");
    expect(trackStep({ status: "approved", order_state: "closed" })).toBe("closed");
  });
});
