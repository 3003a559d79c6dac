import type { paths } from "@/api/schema";
import { i18n } from "@/i18n";

/** The JSON body of a response object from the generated schema. */
type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;

export type PassStatistics = Json<paths["/api/v1/vehicle-passes/statistics"]["get"]["responses"][200]>;
export type VehicleWarning = Json<paths["/api/v1/vehicle-warnings"]["get"]["responses"][200]>["items"][number];
export type PassQuery = NonNullable<paths["/api/v1/vehicle-passes"]["get"]["parameters"]["query"]>;

export const PASS_CLASSES = ["resident", "tenant", "visitor", "temporary", "staff", "blacklisted", "unregistered"] as const;
export const DECISIONS = ["granted", "denied", "held", "ignored"] as const;
export const WARNING_KINDS = ["long_stay", "visitor_overstay", "night_frequent"] as const;

/** The filters of 通行记录 as the form holds them (times as `datetime-local` text, "" when unset). */
export interface PassFilters {
  plate: string;
  fuzzy: boolean;
  carParkId: string;
  laneId: string;
  direction: "" | "in" | "out";
  decision: "" | (typeof DECISIONS)[number];
  vehicleClass: "" | (typeof PASS_CLASSES)[number];
  since: string;
  until: string;
}

export function emptyPassFilters(): PassFilters {
  return {
    plate: "",
    fuzzy: true,
    carParkId: "",
    laneId: "",
    direction: "",
    decision: "",
    vehicleClass: "",
    since: "",
    until: "",
  };
}

/** The query of `GET /vehicle-passes` (and of its CSV) for the filters: only what is set, times zoned. */
export function passQuery(filters: PassFilters): PassQuery {
  const at = (value: string) => (value ? new Date(value).toISOString() : undefined);
  const since = at(filters.since);
  const until = at(filters.until);
  const plate = filters.plate.trim();
  return {
    ...(plate ? { plate, fuzzy: filters.fuzzy } : {}),
    ...(filters.carParkId ? { car_park_id: filters.carParkId } : {}),
    ...(filters.laneId ? { lane_id: filters.laneId } : {}),
    ...(filters.direction ? { direction: filters.direction } : {}),
    ...(filters.decision ? { decision: filters.decision } : {}),
    ...(filters.vehicleClass ? { vehicle_class: filters.vehicleClass } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}

function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The CSV export's address for the same filters (the browser downloads it with the session cookie). */
export function passCsvUrl(filters: PassFilters): string {
  return `/api/v1/vehicle-passes.csv${queryString(passQuery(filters))}`;
}

/** The filters as the print view's route query carries them (and reads them back). */
export function filtersToRoute(filters: PassFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(filters)) {
    if (typeof value === "boolean") out[key] = value ? "1" : "0";
    else if (value) out[key] = value;
  }
  return out;
}

export function filtersFromRoute(query: Record<string, unknown>): PassFilters {
  const filters = emptyPassFilters();
  const text = (key: string) => (typeof query[key] === "string" ? (query[key] as string) : "");
  filters.plate = text("plate");
  filters.fuzzy = text("fuzzy") !== "0";
  filters.carParkId = text("carParkId");
  filters.laneId = text("laneId");
  const direction = text("direction");
  if (direction === "in" || direction === "out") filters.direction = direction;
  const decision = text("decision");
  if ((DECISIONS as readonly string[]).includes(decision)) filters.decision = decision as PassFilters["decision"];
  const cls = text("vehicleClass");
  if ((PASS_CLASSES as readonly string[]).includes(cls)) filters.vehicleClass = cls as PassFilters["vehicleClass"];
  filters.since = text("since");
  filters.until = text("until");
  return filters;
}

/** The filters' own problem (an i18n key, or ""): a range that runs backwards, a plate too short to search. */
export function passFiltersProblem(filters: PassFilters): string {
  if (filters.since && filters.until && new Date(filters.until) <= new Date(filters.since)) {
    return "vehicleRecords.rangeInvalid";
  }
  const plate = filters.plate.trim();
  if (plate && (plate.length < 6 || plate.length > 10)) return "vehicleRecords.plateInvalid";
  return "";
}

/** How many filters are set beyond the plate (the badge on 筛选). */
export function activePassFilters(filters: PassFilters): number {
  return [filters.carParkId, filters.laneId, filters.direction, filters.decision, filters.vehicleClass, filters.since, filters.until].filter(
    Boolean,
  ).length;
}

function labelOf(group: string, code: string): string {
  const { t, te } = i18n.global;
  const key = `${group}.${code}`;
  return te(key) ? t(key) : code;
}

/** 业主, 访客, 未登记, … */
export function passClassLabel(cls: string): string {
  return labelOf("vehicleRecords.classes", cls);
}

/** 长期滞留, 访客超时未离场, 夜间频繁出入. */
export function warningKindLabel(kind: string): string {
  return labelOf("vehicleRecords.warnings.kinds", kind);
}

/** The range of the statistics screen: the last `days` days up to the end of today (local time). */
export function lastDays(days: number, now: Date = new Date()): { since: string; until: string } {
  const end = new Date(now);
  end.setHours(24, 0, 0, 0);
  const start = new Date(end);
  start.setDate(start.getDate() - days);
  return { since: start.toISOString(), until: end.toISOString() };
}

/** A local date as `<input type="date">` holds it ("2026-12-03"). */
export function dateInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The most days one statistics request covers (the API's limit). */
export const MAX_STATS_DAYS = 366;

/** From the first day's start to the last day's end (local time), both days included; null when
 * a day is missing or unreadable. */
export function dayRange(first: string, last: string): { since: string; until: string } | null {
  const parse = (day: string) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
  };
  const start = parse(first);
  const end = parse(last);
  if (!start || !end) return null;
  end.setDate(end.getDate() + 1);
  return { since: start.toISOString(), until: end.toISOString() };
}

/** What is wrong with a range of days (an i18n key), or "". */
export function dayRangeProblem(first: string, last: string): string {
  const range = dayRange(first, last);
  if (!range) return "vehicleRecords.policeStats.rangeMissing";
  const days = (Date.parse(range.until) - Date.parse(range.since)) / 86_400_000;
  if (days <= 0) return "vehicleRecords.policeStats.rangeBackwards";
  if (days > MAX_STATS_DAYS) return "vehicleRecords.policeStats.rangeTooLong";
  return "";
}

/** "12-03" from "2026-12-03". */
export function shortDay(day: string): string {
  return day.slice(5);
}

/** The busiest hour of entries (ties: the earliest), or null when nothing came in. */
export function peakHour(stats: Pick<PassStatistics, "hours">): number | null {
  let best: { hour: number; entries: number } | null = null;
  for (const h of stats.hours) if (h.entries > 0 && (!best || h.entries > best.entries)) best = h;
  return best ? best.hour : null;
}

/** Sums of the range: entries and exits of granted passes. */
export function totals(stats: Pick<PassStatistics, "days">): { entries: number; exits: number } {
  return stats.days.reduce((sum, d) => ({ entries: sum.entries + d.entries, exits: sum.exits + d.exits }), {
    entries: 0,
    exits: 0,
  });
}

/** The ECharts options of the statistics screen (plain objects; PassChart.vue renders them). */
export interface ChartLabels {
  entries: string;
  exits: string;
  occupied: string;
}

const GRID = { left: 40, right: 16, top: 36, bottom: 28 };
const COLOURS: string[] = ["#1989fa", "#07c160", "#ff976a", "#ee0a24", "#7232dd", "#969799", "#ffd01e"];

export function dailyOption(stats: Pick<PassStatistics, "days">, labels: ChartLabels) {
  return {
    color: COLOURS,
    grid: GRID,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "category", data: stats.days.map((d) => shortDay(d.day)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: labels.entries, type: "bar", data: stats.days.map((d) => d.entries) },
      { name: labels.exits, type: "bar", data: stats.days.map((d) => d.exits) },
    ],
  };
}

export function hourlyOption(stats: Pick<PassStatistics, "hours">, labels: ChartLabels) {
  return {
    color: COLOURS,
    grid: GRID,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "category", data: stats.hours.map((h) => `${String(h.hour).padStart(2, "0")}:00`) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: labels.entries, type: "line", data: stats.hours.map((h) => h.entries) },
      { name: labels.exits, type: "line", data: stats.hours.map((h) => h.exits) },
    ],
  };
}

export function occupancyOption(stats: Pick<PassStatistics, "occupancy">, labels: ChartLabels) {
  return {
    color: [COLOURS[2]!],
    grid: GRID,
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: stats.occupancy.map((p) => shortDay(p.day)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ name: labels.occupied, type: "line", areaStyle: {}, data: stats.occupancy.map((p) => p.occupied) }],
  };
}

export function shareOption(parts: { key: string; count: number }[], label: (key: string) => string) {
  return {
    color: COLOURS,
    tooltip: { trigger: "item" },
    legend: { bottom: 0, type: "scroll" },
    series: [
      {
        type: "pie",
        radius: ["40%", "68%"],
        center: ["50%", "44%"],
        label: { formatter: "{b}: {c}" },
        data: parts.map((p) => ({ name: label(p.key), value: p.count })),
      },
    ],
  };
}

/** Each car park's count now: the cars inside stacked on the free spaces (never below zero). */
export function carParksOption(
  parks: Pick<PassStatistics["car_parks"][number], "name" | "capacity" | "occupied">[],
  labels: { occupied: string; free: string },
) {
  const rows = [...parks].reverse(); // the first at the top
  return {
    color: [COLOURS[2]!, COLOURS[1]!],
    grid: { left: 96, right: 24, top: 36, bottom: 24 },
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: rows.map((p) => p.name) },
    series: [
      { name: labels.occupied, type: "bar", stack: "spaces", data: rows.map((p) => p.occupied) },
      { name: labels.free, type: "bar", stack: "spaces", data: rows.map((p) => Math.max(p.capacity - p.occupied, 0)) },
    ],
  };
}

export function lanesOption(stats: Pick<PassStatistics, "lanes">) {
  const lanes = [...stats.lanes].reverse(); // the busiest at the top
  return {
    color: [COLOURS[0]!],
    grid: { left: 96, right: 24, top: 8, bottom: 24 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: lanes.map((l) => l.lane_name) },
    series: [{ type: "bar", data: lanes.map((l) => l.count) }],
  };
}
