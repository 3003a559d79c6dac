import type { Role, WorkOrder, WorkOrderMove, WorkOrderState } from "@/api/types";

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
