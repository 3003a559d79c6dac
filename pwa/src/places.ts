import type { Role } from "@/api/types";

/**
 * The places console (docs/communities.md): who may add what, and the form checks that mirror the
 * API's own (api/communities/schemas.py), so a form says what is wrong before it is sent. Messages
 * are i18n keys; the server's refusals (`duplicate_code`, `invalid_room`, …) land on the same fields.
 */

/** What a role may change in places: the API's `community.write`, `building.write`, `household.write`. */
export function placeRights(role: Role | null): { communities: boolean; buildings: boolean; households: boolean } {
  return {
    communities: role === "system_admin",
    buildings: role === "system_admin" || role === "property_manager",
    households: role === "property_manager",
  };
}

type Problems<F extends string> = Partial<Record<F, string>>;

export interface CommunityForm {
  code: string;
  name: string;
  address: string;
}

/** A GB/T 31000-style code is 15 digits; the server checks the division levels (`invalid_community_code`). */
export function checkCommunity(form: CommunityForm, isNew: boolean): Problems<keyof CommunityForm> {
  const problems: Problems<keyof CommunityForm> = {};
  if (isNew && !/^\d{15}$/.test(form.code.trim())) problems.code = "places.check.code";
  if (!form.name.trim()) problems.name = "places.check.required";
  else if (form.name.trim().length > 100) problems.name = "places.check.tooLong";
  if (!form.address.trim()) problems.address = "places.check.required";
  else if (form.address.trim().length > 200) problems.address = "places.check.tooLong";
  return problems;
}

export interface BuildingForm {
  number: string;
  name: string;
  floors: string;
}

export const MAX_FLOORS = 200;

/** A building number as posted (1–999, no leading zero) and 1–200 floors. */
export function checkBuilding(form: BuildingForm, isNew: boolean): Problems<keyof BuildingForm> {
  const problems: Problems<keyof BuildingForm> = {};
  if (isNew && !/^[1-9]\d{0,2}$/.test(form.number.trim())) problems.number = "places.check.buildingNumber";
  if (form.name.trim().length > 50) problems.name = "places.check.tooLong";
  const floors = Number(form.floors);
  if (!/^\d+$/.test(form.floors.trim()) || floors < 1 || floors > MAX_FLOORS) problems.floors = "places.check.floors";
  return problems;
}

/** A unit number: 1–99. */
export function checkUnit(number: string): Problems<"number"> {
  return /^[1-9]\d?$/.test(number.trim()) ? {} : { number: "places.check.unitNumber" };
}

/** A room is floor (2 digits) + room (2 digits), on a floor of the building, never "xx00". */
export function checkRoom(room: string, floors: number): Problems<"room"> {
  const value = room.trim();
  if (!/^\d{4}$/.test(value)) return { room: "places.check.room" };
  const floor = Number(value.slice(0, 2));
  if (floor < 1 || floor > floors || value.slice(2) === "00") return { room: "errors.invalid_room" };
  return {};
}

/** The body of a building form: the number only when new, the name only when given. */
export function buildingBody(form: BuildingForm): { number: string; floors: number; name?: string } {
  const name = form.name.trim();
  return { number: form.number.trim(), floors: Number(form.floors), ...(name ? { name } : {}) };
}
