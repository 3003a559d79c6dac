/**
 * The guard's patrol on the phone, as pure rules (docs/patrol.md): which round is the one to walk,
 * how long is left, what a scan sends, and what an answer means for the offline queue.
 *
 * A scan gets its id when the guard scans, not when it is sent: the server stores a scan once per
 * id, so the queue may send the same scan again (after a lost answer, a reload, a crash) and it is
 * still one scan. The queue forgets a scan once the server has answered for it — stored (201) or
 * refused with a reason (409 `scan_refused`, recorded there too) — and keeps it on anything that
 * says nothing about it: no network, a server error, a session to renew.
 */
import { ApiError } from "@/api/client";
import type { ComplianceQuery, PatrolPlan, PatrolRound, PatrolScanCreate } from "@/api/types";

/** A scan made on the phone, waiting to be sent: the body less `sent_at`, set when it is sent. */
export type QueuedScan = Omit<PatrolScanCreate, "sent_at">;

export type Delivery = "accepted" | "refused" | "rejected" | "retry";

export const PHONE_ID_KEY = "anju.patrol.phone";
export const MAX_CODE = 128;
const LIVE: readonly PatrolRound["status"][] = ["open", "overdue"];

/** The round to walk now: one under way (the earliest), else the next to begin, else none. */
export function currentRound(rounds: readonly PatrolRound[]): PatrolRound | null {
  const live = rounds.filter((r) => LIVE.includes(r.status));
  if (live.length) return [...live].sort((a, b) => a.starts_at.localeCompare(b.starts_at))[0]!;
  const upcoming = rounds.filter((r) => r.status === "upcoming");
  return upcoming.length ? [...upcoming].sort((a, b) => a.starts_at.localeCompare(b.starts_at))[0]! : null;
}

/** Today's rounds for the list: those under way first, then the next ones, the ended ones last. */
export function orderRounds(rounds: readonly PatrolRound[]): PatrolRound[] {
  const rank = { open: 0, overdue: 0, upcoming: 1, ended: 2 } as const;
  return [...rounds].sort((a, b) => rank[a.status] - rank[b.status] || a.starts_at.localeCompare(b.starts_at));
}

/**
 * Milliseconds left: until the round is due while it is open, until it stops counting (late) while
 * overdue, until it begins while upcoming; null once it has ended.
 */
export function timeLeft(round: PatrolRound, now: number): number | null {
  const until = { upcoming: round.starts_at, open: round.due_at, overdue: round.closes_at, ended: null }[
    round.status
  ];
  return until === null ? null : Math.max(0, Date.parse(until) - now);
}

/** "12:05" (minutes:seconds) or "1:02:05" (hours:minutes:seconds). */
export function formatLeft(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

/** How many of the round's checkpoints the server has a scan of, and how many it has. */
export function progress(round: PatrolRound): { done: number; total: number } {
  return { done: round.checkpoints.filter((c) => c.scanned_at !== null).length, total: round.checkpoints.length };
}

/** The code a label's QR (or the typed text) carries, trimmed; null when there is none to send. */
export function readCode(text: string): string | null {
  const code = text.trim();
  return code && code.length <= MAX_CODE ? code : null;
}

/** A scan made now, with its own id: what the queue keeps until the server has answered for it. */
export function newScan(
  code: string,
  {
    roundId,
    phone,
    now,
    id,
    note = "",
    photo = null,
  }: { roundId: string | null; phone: string; now: number; id: string; note?: string; photo?: string | null },
): QueuedScan {
  return {
    id,
    code,
    scanned_at: new Date(now).toISOString(),
    phone,
    round_id: roundId,
    note: note.trim(),
    ...(photo ? { photo: { content_type: "image/jpeg" as const, data: photo } } : {}),
  };
}

/** The body to post: the queued scan and when the phone sends it (the server measures its skew). */
export function scanBody(scan: QueuedScan, now: number): PatrolScanCreate {
  return { ...scan, sent_at: new Date(now).toISOString() };
}

/** What an answer (null: 201 stored) means for a queued scan: forget it, or keep and retry. */
export function delivery(err: unknown): Delivery {
  if (err === null) return "accepted";
  if (!(err instanceof ApiError)) return "retry";
  if (err.status === 409 && err.code === "scan_refused") return "refused";
  if (err.status === 0 || err.status >= 500 || [401, 403, 408, 419, 429].includes(err.status)) return "retry";
  return "rejected"; // a body the server will never take: sending it again changes nothing
}

/** Forget the scan once the server has answered for it. */
export function settled(outcome: Delivery): boolean {
  return outcome !== "retry";
}

/** The reason a refusal gives (`extra.reason`), for the i18n key `patrol.refused.<reason>`. */
export function refusalReason(err: unknown): string {
  const reason = err instanceof ApiError ? err.extra.reason : undefined;
  return typeof reason === "string" && reason ? reason : "unknown";
}

/** This phone's id (one per installation): the server tells two phones at one point apart. */
export function phoneId(storage: Pick<Storage, "getItem" | "setItem">, make: () => string): string {
  const known = storage.getItem(PHONE_ID_KEY);
  if (known) return known;
  const made = make();
  storage.setItem(PHONE_ID_KEY, made);
  return made;
}

/** A random (version 4) UUID, also where `crypto.randomUUID` is missing (an older WebView). */
export function uuid4(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const b = random(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The wall-clock time of an instant, "21:05". */
export function formatClock(iso: string, locale: string): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hour12: false });
}

// -- setting patrols up (the manager's screen) ---------------------------------------------------

export interface PlanForm {
  name: string;
  routeId: string;
  guards: string[];
  dayStarts: string; // "06:00"
  nightStarts: string; // "20:00"
  dayEvery: number;
  nightEvery: number;
  roundMinutes: number;
  graceMinutes: number;
}

export function emptyPlan(): PlanForm {
  return {
    name: "",
    routeId: "",
    guards: [],
    dayStarts: "06:00",
    nightStarts: "20:00",
    dayEvery: 120,
    nightEvery: 60,
    roundMinutes: 30,
    graceMinutes: 10,
  };
}

/** Ticking a checkpoint for a route adds it at the end of the walk; ticking it again takes it out. */
export function toggleStop(order: readonly string[], id: string): string[] {
  return order.includes(id) ? order.filter((x) => x !== id) : [...order, id];
}

/** What is wrong with a plan form, as i18n keys by field (`patrol.admin.problems.*`). */
export function planProblems(form: PlanForm): Partial<Record<"name" | "route" | "times" | "fit", string>> {
  const problems: Partial<Record<"name" | "route" | "times" | "fit", string>> = {};
  if (!form.name.trim()) problems.name = "patrol.admin.problems.name";
  if (!form.routeId) problems.route = "patrol.admin.problems.route";
  if (!/^\d{2}:\d{2}$/.test(form.dayStarts) || !/^\d{2}:\d{2}$/.test(form.nightStarts) || form.dayStarts === form.nightStarts) {
    problems.times = "patrol.admin.problems.times";
  }
  if (form.roundMinutes + form.graceMinutes > Math.min(form.dayEvery, form.nightEvery)) {
    problems.fit = "patrol.admin.problems.fit";
  }
  return problems;
}

/** The body of a new plan (times with seconds, as the API takes them). */
export function planBody(form: PlanForm) {
  return {
    route_id: form.routeId,
    name: form.name.trim(),
    guards: form.guards,
    day_starts: `${form.dayStarts}:00`,
    night_starts: `${form.nightStarts}:00`,
    day_every: form.dayEvery,
    night_every: form.nightEvery,
    round_minutes: form.roundMinutes,
    grace_minutes: form.graceMinutes,
    active: true,
  };
}

// -- compliance (巡更考核) -------------------------------------------------------------------------

export type ComplianceBy = "guard" | "route";

/** The last `days` days to today, as the date inputs hold them (YYYY-MM-DD, the browser's day). */
export function lastDays(days: number, today: Date): { from: string; to: string } {
  const day = (d: Date) =>
    `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const from = new Date(today);
  from.setDate(from.getDate() - (days - 1));
  return { from: day(from), to: day(today) };
}

/** The range the API takes for two date inputs, both days whole (local time); null when wrong. */
export function complianceRange(from: string, to: string): { since: string; until: string } | null {
  const start = new Date(`${from}T00:00:00`);
  const end = new Date(`${to}T00:00:00`);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) return null;
  end.setDate(end.getDate() + 1);
  if (end.getTime() - start.getTime() > 366 * 86_400_000) return null;
  return { since: start.toISOString(), until: end.toISOString() };
}

export function complianceQuery(
  communityId: string,
  range: { since: string; until: string },
  by: ComplianceBy,
  page: number,
  pageSize: number,
): ComplianceQuery {
  return { community_id: communityId, since: range.since, until: range.until, by, page, page_size: pageSize };
}

/** The CSV export of the same rows (every page). */
export function csvUrl(query: ComplianceQuery): string {
  const params = new URLSearchParams();
  if (query.community_id) params.set("community_id", query.community_id);
  params.set("by", query.by ?? "guard");
  if (query.since) params.set("since", query.since);
  if (query.until) params.set("until", query.until);
  return `/api/v1/patrol/compliance/csv?${params.toString()}`;
}

/** The printable A4 sheet of QR labels of a route's checkpoints (walking order) or an area's. */
export function labelsUrl(of: { route_id: string } | { area_id: string }): string {
  return `/api/v1/patrol/checkpoints/labels?${new URLSearchParams(of).toString()}`;
}

/** A rate as a percentage with one decimal (0.6667 → 66.7%). */
export function formatRate(rate: number): string {
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

// -- editing on 巡更管理 ------------------------------------------------------------------------------

/** A plan as the form edits it. */
export function planForm(plan: PatrolPlan): PlanForm {
  return {
    name: plan.name,
    routeId: plan.route_id,
    guards: [...plan.guards],
    dayStarts: plan.day_starts.slice(0, 5),
    nightStarts: plan.night_starts.slice(0, 5),
    dayEvery: plan.day_every,
    nightEvery: plan.night_every,
    roundMinutes: plan.round_minutes,
    graceMinutes: plan.grace_minutes,
  };
}

/** The PATCH body of an edited plan: everything but its route and whether it is paused. */
export function planChanges(form: PlanForm) {
  const body = planBody(form);
  return {
    name: body.name,
    guards: body.guards,
    day_starts: body.day_starts,
    night_starts: body.night_starts,
    day_every: body.day_every,
    night_every: body.night_every,
    round_minutes: body.round_minutes,
    grace_minutes: body.grace_minutes,
  };
}
