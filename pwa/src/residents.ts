import type { Role } from "@/api/types";

/**
 * The residents registry console (docs/people.md): what a role may do, what the search box means,
 * and the form checks that mirror the API's (api/people/service.py), so a form says what is wrong
 * before it is sent. Messages are i18n keys; the server's codes land on the same fields.
 */

export type Category = "permanent" | "floating" | "tenant";
export type Relation = "owner" | "member" | "tenant";
export type Residence = "living" | "moved_out" | "all";

export const CATEGORIES: readonly Category[] = ["permanent", "floating", "tenant"];
export const RELATIONS: readonly Relation[] = ["owner", "member", "tenant"];

/** The API's `person.write` and `person.reveal` (api/core/auth.py). */
export function residentRights(role: Role | null): { write: boolean; reveal: boolean } {
  return { write: role === "property_manager", reveal: role === "property_manager" || role === "police" };
}

/** What one search box asks: a mobile number and an ID number match exactly (blind index), else a name. */
export function searchParams(text: string): { q?: string; phone?: string; id_number?: string } {
  const value = text.trim();
  if (!value) return {};
  const compact = value.replace(/[\s-]/g, "").replace(/^\+?86(?=1\d{10}$)/, "");
  if (/^1[3-9]\d{9}$/.test(compact)) return { phone: compact };
  if (/^\d{17}[\dXx]$/.test(compact)) return { id_number: compact.toUpperCase() };
  return { q: value };
}

/** The `moved_out` filter of a residence chip. */
export function movedOutParam(residence: Residence): boolean | undefined {
  return residence === "all" ? undefined : residence === "moved_out";
}

/** Whether a person lives in a household now, has moved out, or has none (floating population). */
export function residenceOf(person: { household_id: string | null; moved_out_on: string | null }): "living" | "moved_out" | "none" {
  if (person.moved_out_on) return "moved_out";
  return person.household_id ? "living" : "none";
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** An 18-character resident ID with a real birth date and a valid MOD 11-2 check digit. */
export function validIdNumber(value: string): boolean {
  const id = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const born = new Date(`${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}T00:00:00Z`);
  if (Number.isNaN(born.getTime()) || born.toISOString().slice(0, 10).replaceAll("-", "") !== id.slice(6, 14)) return false;
  const sum = WEIGHTS.reduce((total, weight, i) => total + weight * Number(id[i]), 0);
  return "10X98765432"[sum % 11] === id[17];
}

/** A mainland mobile number, with or without +86, spaces or dashes. */
export function validPhone(value: string): boolean {
  return /^1[3-9]\d{9}$/.test(value.replace(/[\s-]/g, "").replace(/^\+?86(?=1\d{10}$)/, ""));
}

type Problems<F extends string> = Partial<Record<F, string>>;

export interface PersonForm {
  name: string;
  phone: string;
  id_number: string;
  category: Category;
  relation: Relation;
}

/** A new registration checks every field; an edit only what it changes (blank identifiers stay). */
export function checkPerson(form: PersonForm, isNew: boolean): Problems<keyof PersonForm> {
  const problems: Problems<keyof PersonForm> = {};
  if (!form.name.trim()) problems.name = "residents.check.required";
  else if (form.name.trim().length > 50) problems.name = "residents.check.tooLong";
  if ((isNew || form.phone.trim()) && !validPhone(form.phone)) problems.phone = "residents.check.phone";
  if ((isNew || form.id_number.trim()) && !validIdNumber(form.id_number)) problems.id_number = "residents.check.idNumber";
  if (form.relation === "owner" && form.category === "tenant") problems.relation = "residents.check.ownerTenant";
  return problems;
}

/** A purpose of at least 4 characters besides blanks (the API's RevealRequest). */
export function checkPurpose(purpose: string): Problems<"purpose"> {
  return purpose.trim().length >= 4 ? {} : { purpose: "residents.check.purpose" };
}

/** A date field's value (YYYY-MM-DD) is a day; a move-out is not before the move-in. */
export function checkMoveOut(on: string, movedInOn: string | null): Problems<"on"> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(on)) return { on: "residents.check.date" };
  if (movedInOn && on < movedInOn) return { on: "residents.check.beforeMoveIn" };
  return {};
}

/** Today as the date fields want it, in the browser's zone. */
export function today(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
