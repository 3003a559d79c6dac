import { validPhone } from "@/joining";
import type { ReportTrack, Role, WorkOrder, WorkOrderMove, WorkOrderPart, WorkOrderState } from "@/api/types";

/** The state moves of a work order, as the API allows them (api/workorders/catalogue.py). */
export type Move = WorkOrderMove["to"];
export type Action = Move | "assign" | "take" | "rate";

const TRANSITIONS: Record<Move | "assigned", readonly WorkOrderState[]> = {
  assigned: ["new", "assigned", "in_progress", "waiting"],
  in_progress: ["assigned", "waiting", "done"],
  waiting: ["in_progress"],
  done: ["in_progress"],
  closed: ["done"],
  cancelled: ["new", "assigned", "in_progress", "waiting"],
};
const WORK_MOVES = new Set(["assigned>in_progress", "waiting>in_progress", "in_progress>waiting", "in_progress>done"]);

export function allowed(state: WorkOrderState, to: Move | "assigned"): boolean {
  return TRANSITIONS[to].includes(state);
}

/** Who is looking at an order: their role and account. */
export interface Viewer {
  role: Role;
  accountId: string;
}

/**
 * The buttons an order shows its viewer, in the order they are offered: the assignee works it,
 * a manager assigns, verifies, sends back and cancels, maintenance take a new one, the requester
 * withdraws a new request and rates a done one.
 */
export function actionsFor(order: WorkOrder, viewer: Viewer): Action[] {
  const out: Action[] = [];
  const assignee = order.assignee_id === viewer.accountId;
  const manager = viewer.role === "property_manager";
  const moves: Move[] = ["in_progress", "waiting", "done", "closed", "cancelled"];
  for (const to of moves) {
    if (!allowed(order.state, to)) continue;
    const work = WORK_MOVES.has(`${order.state}>${to}`);
    if (work ? assignee && viewer.role === "maintenance" : manager) out.push(to);
    else if (to === "cancelled" && order.state === "new" && order.requested_by === viewer.accountId) out.push(to);
  }
  if (manager && allowed(order.state, "assigned")) out.unshift("assign");
  if (viewer.role === "maintenance" && order.state === "new") out.unshift("take");
  const ratable = order.state === "done" || order.state === "closed";
  if (viewer.role === "resident" && ratable && order.rating === null && order.requested_by === viewer.accountId) {
    out.push("rate");
  }
  return out;
}

/** Whether the viewer may add photos and log time (the assignee, while the order is being worked). */
export function works(order: WorkOrder, viewer: Viewer): boolean {
  return viewer.role === "maintenance" && order.assignee_id === viewer.accountId && ["assigned", "in_progress", "waiting"].includes(order.state);
}

export type Tone = "primary" | "success" | "warning" | "danger" | "default";

export function stateTone(state: WorkOrderState): Tone {
  if (state === "done" || state === "closed") return "success";
  if (state === "waiting") return "warning";
  if (state === "cancelled") return "default";
  return "primary";
}

export function priorityTone(priority: WorkOrder["priority"]): Tone {
  return priority === "urgent" ? "danger" : priority === "high" ? "warning" : "default";
}

/** What a move's form must hold before it is sent: `done` needs the cause and the report, `waiting` what for. */
export function moveProblems(body: Pick<WorkOrderMove, "to"> & Partial<WorkOrderMove>): string[] {
  const problems: string[] = [];
  if (body.to === "done") {
    if (!body.cause?.trim()) problems.push("cause");
    if (!body.report?.trim()) problems.push("report");
  }
  if (body.to === "waiting" && !body.waiting_for) problems.push("waiting_for");
  return problems;
}

/** Minutes left until due (negative: overdue), at `now`. */
export function minutesLeft(order: WorkOrder, now: number): number {
  return Math.round((Date.parse(order.due_at) - now) / 60_000);
}

/** Whether the viewer may add parts used: the assignee (maintenance) or a manager, while the
 * order is worked or done (api/workorders/parts.py PARTS_STATES). */
export function addsParts(order: WorkOrder, viewer: Viewer): boolean {
  if (!["in_progress", "waiting", "done"].includes(order.state)) return false;
  return viewer.role === "property_manager" || (viewer.role === "maintenance" && order.assignee_id === viewer.accountId);
}

/** What an order cost (fen): its parts at the price they had when used, less those returned
 * (unpriced ones counted apart), its external cost, and their sum. */
export function orderCost(
  order: Pick<WorkOrder, "external_cost"> & { parts: readonly Pick<WorkOrderPart, "cost" | "kind">[] },
): { parts: number; external: number; total: number; unpriced: number } {
  const parts = order.parts.reduce((sum, p) => sum + (p.cost ?? 0), 0);
  const external = order.external_cost ?? 0;
  const unpriced = order.parts.filter((p) => p.cost === null && p.kind === "used").length;
  return { parts, external, total: parts + external, unpriced };
}

/** Parts the order holds, summed per part (an order may take the same part more than once, and
 * return some: returns count negative), by name; parts all returned are left out. */
export function partsSummary(parts: readonly WorkOrderPart[]): { name: string; unit: string; quantity: number }[] {
  const byPart = new Map<string, { name: string; unit: string; quantity: number }>();
  for (const part of parts) {
    const seen = byPart.get(part.part_id);
    if (seen) seen.quantity += part.quantity;
    else byPart.set(part.part_id, { name: part.name, unit: part.unit, quantity: part.quantity });
  }
  return [...byPart.values()].filter((p) => p.quantity > 0).sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
}

/** How many of a part the order may still return: what it took less what it returned (the API
 * refuses more, `return_exceeds_taken`). */
export function returnable(parts: readonly Pick<WorkOrderPart, "part_id" | "quantity">[], partId: string): number {
  return Math.max(0, parts.filter((p) => p.part_id === partId).reduce((sum, p) => sum + p.quantity, 0));
}

/** The most photos a request from a label takes (ReportCreate.photos). */
export const REPORT_PHOTOS = 3;

/** What is wrong with the public report form before it is sent (i18n keys by field). */
export function reportProblems(form: { description: string; phone: string }): Partial<Record<"description" | "phone", string>> {
  const problems: Partial<Record<"description" | "phone", string>> = {};
  if (!form.description.trim()) problems.description = "report.errors.description";
  if (!validPhone(form.phone)) problems.phone = "errors.invalid_phone";
  return problems;
}

/** The tracking page's step: waiting for the manager, rejected, or the order's own state. */
export function trackStep(track: Pick<ReportTrack, "status" | "order_state">): "pending" | "rejected" | WorkOrderState {
  if (track.status === "rejected") return "rejected";
  return track.order_state ?? "pending";
}
