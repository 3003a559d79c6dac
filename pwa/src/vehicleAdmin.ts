import type { CarPark, Role, Vehicle, VehicleQuery, WarningSettings, WarningSettingsBody } from "@/api/types";

/**
 * The rules of the manager's 车辆管理 (docs/vehicles.md): who may do what (VEH-06), a car park's
 * counts and its "临时车位已满" state, live counts applied, which lifecycle steps a vehicle
 * offers (VEH-07), and the registry's filters as a query.
 */

/** What a role does here: managers run it all; guards read (counts, registry, blacklist); others none. */
export type Tier = "manage" | "read" | null;

export function vehicleTier(role: Role | null): Tier {
  if (role === "property_manager") return "manage";
  if (role === "guard") return "read";
  return null;
}

/** Days before its end a vehicle's validity shows as ending soon (and the filter 即将到期 looks ahead). */
export const EXPIRY_SOON_DAYS = 30;
const DAY = 86_400_000;

/** A validity's state: ended, ending within `EXPIRY_SOON_DAYS`, or neither (no end: null). */
export function expiryState(validUntil: string | null, now: number): "expired" | "soon" | null {
  if (!validUntil) return null;
  const end = Date.parse(validUntil);
  if (end <= now) return "expired";
  return end - now <= EXPIRY_SOON_DAYS * DAY ? "soon" : null;
}

/** The share of a car park's spaces taken, 0–100, for its bar (an empty car park without spaces: 0). */
export function occupancyPercent(park: Pick<CarPark, "capacity" | "occupied">): number {
  if (park.capacity <= 0) return park.occupied > 0 ? 100 : 0;
  return Math.min(100, Math.round((park.occupied / park.capacity) * 100));
}

/** The tone of a car park: full for temporary parking (danger), nearly full (≥ 90 %: warning), else fine. */
export function parkTone(park: Pick<CarPark, "capacity" | "occupied" | "full">): "danger" | "warning" | "success" {
  if (park.full) return "danger";
  return occupancyPercent(park) >= 90 ? "warning" : "success";
}

/** Top-level car parks, each with its zones (by name); a zone whose car park is not listed stands alone. */
export function parkTree(parks: readonly CarPark[]): { park: CarPark; zones: CarPark[] }[] {
  const ids = new Set(parks.map((p) => p.id));
  const byName = (a: CarPark, b: CarPark) => a.name.localeCompare(b.name, "zh-CN");
  return parks
    .filter((p) => !p.parent_id || !ids.has(p.parent_id))
    .sort(byName)
    .map((park) => ({ park, zones: parks.filter((z) => z.parent_id === park.id).sort(byName) }));
}

/** The car park a live event carries (`{type: "car_park.occupancy", car_park}`), or null. */
export function liveCarPark(event: { type: string; [field: string]: unknown }): CarPark | null {
  if (event.type !== "car_park.occupancy") return null;
  const park = event.car_park as Partial<CarPark> | undefined;
  return park && typeof park.id === "string" && typeof park.occupied === "number" ? (park as CarPark) : null;
}

/** The car parks with a live one's counts applied (a car park not shown is left out). */
export function applyLiveCarPark(parks: readonly CarPark[], live: CarPark): CarPark[] {
  return parks.map((p) => (p.id === live.id ? { ...p, ...live } : p));
}

export type Step = "authorise" | "change" | "cancel" | "extend";

/** The lifecycle steps a vehicle offers a manager (none to a reader): as the API allows them. */
export function lifecycleSteps(vehicle: Pick<Vehicle, "status" | "valid_until">, tier: Tier): Step[] {
  if (tier !== "manage") return [];
  if (vehicle.status === "registered") return ["authorise", "change", "cancel"];
  if (vehicle.status === "active") return vehicle.valid_until ? ["change", "extend", "cancel"] : ["change", "cancel"];
  return [];
}

export interface RegistryFilters {
  plate: string;
  status: "" | "registered" | "active" | "cancelled";
  vehicleClass: "" | NonNullable<VehicleQuery["vehicle_class"]>;
  household: string;
  expiring: boolean;
}

/** The registry's filters as the list endpoint's query; `expiring`: ends within `EXPIRY_SOON_DAYS`. */
export function registryQuery(
  filters: RegistryFilters,
  community: string | null,
  now: number,
): Omit<VehicleQuery, "page" | "page_size"> {
  const plate = filters.plate.trim();
  return {
    ...(community ? { community_id: community } : {}),
    ...(plate ? { plate } : {}),
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.vehicleClass ? { vehicle_class: filters.vehicleClass } : {}),
    ...(filters.household ? { household_id: filters.household } : {}),
    ...(filters.expiring ? { expires_before: new Date(now + EXPIRY_SOON_DAYS * DAY).toISOString() } : {}),
  };
}

/** A whole number of spaces from a form field (blank or not a whole number ≥ 0: null). */
export function spaces(text: string): number | null {
  const value = text.trim();
  return /^\d{1,6}$/.test(value) ? Number(value) : null;
}

export interface CarParkForm {
  name: string;
  capacity: string;
  temporary_capacity: string;
  long_stay_days?: string; // days before a car inside is warned of (0: never); unset: 7
}

/** The problems of a car park's form, as i18n keys by field. */
export function checkCarPark(form: CarParkForm): Partial<Record<keyof CarParkForm, string>> {
  const problems: Partial<Record<keyof CarParkForm, string>> = {};
  if (!form.name.trim()) problems.name = "vadmin.nameRequired";
  const all = spaces(form.capacity);
  const temporary = spaces(form.temporary_capacity || "0");
  if (all === null) problems.capacity = "vadmin.spacesInvalid";
  if (temporary === null) problems.temporary_capacity = "vadmin.spacesInvalid";
  else if (all !== null && temporary > all) problems.temporary_capacity = "vadmin.temporaryTooMany";
  const days = spaces(form.long_stay_days || "7");
  if (days === null || days > 365) problems.long_stay_days = "vadmin.longStayInvalid";
  return problems;
}

export interface OccupancyForm {
  occupied: string;
  temporary_occupied: string;
  reason: string;
}

/** The problems of a hand correction: counts whole and ≥ 0, temporary cars among the cars, a reason. */
export function checkOccupancy(form: OccupancyForm): Partial<Record<keyof OccupancyForm, string>> {
  const problems: Partial<Record<keyof OccupancyForm, string>> = {};
  const all = spaces(form.occupied);
  const temporary = spaces(form.temporary_occupied);
  if (all === null) problems.occupied = "vadmin.spacesInvalid";
  if (temporary === null) problems.temporary_occupied = "vadmin.spacesInvalid";
  else if (all !== null && temporary > all) problems.temporary_occupied = "vadmin.temporaryTooMany";
  if (!form.reason.trim()) problems.reason = "vadmin.reasonRequired";
  return problems;
}

/** The end of a day picked in a date field (yyyy-mm-dd, local), as an instant; blank or bad: null. */
export function endOfDay(date: string): string | null {
  const found = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!found) return null;
  const end = new Date(Number(found[1]), Number(found[2]) - 1, Number(found[3]), 23, 59, 59);
  return Number.isNaN(end.getTime()) ? null : end.toISOString();
}

/** A day as the locale writes it (2026/12/31, 12/31/2026). */
export function formatDay(iso: string, locale: string): string {
  return new Date(iso).toLocaleDateString(locale, { year: "numeric", month: "2-digit", day: "2-digit" });
}

/** The warnings' thresholds as a form holds them (text fields), in the order the form shows them. */
export const WARNING_FIELDS = [
  "visitor_grace_minutes",
  "night_start_hour",
  "night_end_hour",
  "night_min_nights",
  "night_window_days",
] as const;
export type WarningField = (typeof WARNING_FIELDS)[number];
export type WarningSettingsForm = Record<WarningField, string>;

/** A community's thresholds into the form's text fields. */
export function warningForm(settings: Pick<WarningSettings, WarningField>): WarningSettingsForm {
  return Object.fromEntries(WARNING_FIELDS.map((f) => [f, String(settings[f])])) as WarningSettingsForm;
}

/**
 * The form checked as the server checks it (`api/vehicles/thresholds.py`): each value a whole
 * number within its range (`limits`, from the server's answer), the night's start and end
 * different, no more nights than the window's days. `{ body }` to send, or `{ problems }` as i18n
 * keys by field (with the range for the message).
 */
export function checkWarningSettings(
  form: WarningSettingsForm,
  limits: Readonly<Record<string, readonly number[]>>,
):
  | { body: WarningSettingsBody; problems?: undefined }
  | { body?: undefined; problems: Partial<Record<WarningField, { key: string; min?: number; max?: number }>> } {
  const problems: Partial<Record<WarningField, { key: string; min?: number; max?: number }>> = {};
  const values = {} as Record<WarningField, number>;
  for (const field of WARNING_FIELDS) {
    const text = form[field].trim();
    const [min, max] = limits[field] ?? [0, Number.MAX_SAFE_INTEGER];
    const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(value >= min! && value <= max!)) problems[field] = { key: "vadmin.warningSettings.range", min, max };
    values[field] = value;
  }
  if (!problems.night_start_hour && !problems.night_end_hour && values.night_start_hour === values.night_end_hour)
    problems.night_end_hour = { key: "vadmin.warningSettings.nightEmpty" };
  if (!problems.night_min_nights && !problems.night_window_days && values.night_min_nights > values.night_window_days)
    problems.night_min_nights = { key: "vadmin.warningSettings.tooManyNights", max: values.night_window_days };
  return Object.keys(problems).length ? { problems } : { body: values };
}
