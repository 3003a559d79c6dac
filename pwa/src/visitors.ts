import type { Tone } from "@/access";
import { copyText } from "@/clipboard";
import { i18n } from "@/i18n";

/** The longest a booked visit may last, and how many entries one pass may allow. */
export const MAX_WINDOW_DAYS = 7;
export const MAX_ENTRIES = 10;
const DAY_MS = 24 * 60 * 60 * 1000;
/** A booking may start a little in the past (the form was filled in slowly). */
const START_GRACE_MS = 15 * 60 * 1000;

/** What the resident types into 预约访客; times as `<input type="datetime-local">` gives them. */
export interface BookingForm {
  name: string;
  phone: string;
  purpose: string;
  from: string;
  until: string;
  entries: number;
  /** Community gates (access points) the visitor may pass; empty = every gate. */
  points: string[];
  /** Buildings whose unit doors (and lifts) the visitor may pass; empty = the household's own. */
  buildings: string[];
  plate: string;
  /** Let the visitor's phone make its own key on the pass page (opens with no signal); off by default. */
  phoneKey: boolean;
}

/** Each field's problem, as an i18n key; an empty object when the form may be sent. */
export type BookingErrors = Partial<Record<keyof BookingForm, string>>;

// Mainland mobile numbers, or an international one written with a leading + (as the server checks).
const PHONE = /^(1[3-9]\d{9}|\+[1-9]\d{5,14})$/;
// Province, issuing letter, then 5 (ordinary) or 6 (new-energy) letters and digits; I and O are never
// used, and the last may be 挂 学 警 港 澳 领 (api/visitors/passes.py has the same pattern).
const PLATE =
  /^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领][A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳领]$/;

/** `datetime-local` text → epoch ms in this phone's time zone (NaN when empty or malformed). */
export function parseLocal(value: string): number {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? new Date(value).getTime() : Number.NaN;
}

/** Epoch ms → `datetime-local` text (minutes) in this phone's time zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A phone number as typed (spaces, dashes, brackets) → digits (and a leading +). */
export function normalPhone(value: string): string {
  return value.replace(/[\s\-()]/g, "");
}

/** A plate as typed → upper case without spaces or the dot some write after the province. */
export function normalPlate(value: string): string {
  return value.replace(/[\s·.-]/g, "").toUpperCase();
}

/** A new form: from now (to the minute) for four hours, one entry, every door of the household. */
export function emptyBooking(now: number = Date.now()): BookingForm {
  const start = Math.floor(now / 60_000) * 60_000;
  return {
    name: "",
    phone: "",
    purpose: "",
    from: toLocalInput(start),
    until: toLocalInput(start + 4 * 60 * 60 * 1000),
    entries: 1,
    points: [],
    buildings: [],
    plate: "",
    phoneKey: false,
  };
}

/** The visitor's own fields, as a resident books them and as the desk registers a walk-in. */
export interface VisitorFields {
  name: string;
  phone: string;
  plate: string;
}

/** What is wrong with the visitor's own fields: a name, a mobile number, a plate if any. */
export function validateVisitor(form: VisitorFields): Partial<Record<keyof VisitorFields, string>> {
  const errors: Partial<Record<keyof VisitorFields, string>> = {};
  const name = form.name.trim();
  if (!name) errors.name = "visitors.errors.nameRequired";
  else if (name.length > 40) errors.name = "visitors.errors.nameTooLong";
  const phone = normalPhone(form.phone);
  if (!phone) errors.phone = "visitors.errors.phoneRequired";
  else if (!PHONE.test(phone)) errors.phone = "visitors.errors.phoneInvalid";
  const plate = normalPlate(form.plate);
  if (plate && !PLATE.test(plate)) errors.plate = "visitors.errors.plateInvalid";
  return errors;
}

/** What is wrong with a booking, field by field (i18n keys under `visitors.errors`). */
export function validateBooking(form: BookingForm, now: number = Date.now()): BookingErrors {
  const errors: BookingErrors = validateVisitor(form);
  if (form.purpose.trim().length > 100) errors.purpose = "visitors.errors.purposeTooLong";
  const from = parseLocal(form.from);
  const until = parseLocal(form.until);
  if (Number.isNaN(from)) errors.from = "visitors.errors.fromRequired";
  else if (from < now - START_GRACE_MS) errors.from = "visitors.errors.fromPast";
  if (Number.isNaN(until)) errors.until = "visitors.errors.untilRequired";
  else if (!Number.isNaN(from) && until <= from) errors.until = "visitors.errors.untilBeforeFrom";
  else if (until <= now) errors.until = "visitors.errors.untilPast";
  else if (!Number.isNaN(from) && until - from > MAX_WINDOW_DAYS * DAY_MS) errors.until = "visitors.errors.tooLong";
  if (!Number.isInteger(form.entries) || form.entries < 1 || form.entries > MAX_ENTRIES) {
    errors.entries = "visitors.errors.entries";
  }
  return errors;
}

/** The body of `POST /visitor-passes` for a valid form, for the household the resident acts for. */
export function bookingBody(form: BookingForm, householdId: string | null = null) {
  const plate = normalPlate(form.plate);
  const purpose = form.purpose.trim();
  return {
    ...(householdId ? { household_id: householdId } : {}),
    visitor_name: form.name.trim(),
    visitor_phone: normalPhone(form.phone),
    purpose,
    valid_from: new Date(parseLocal(form.from)).toISOString(),
    valid_until: new Date(parseLocal(form.until)).toISOString(),
    entries: form.entries,
    ...(form.points.length ? { points: [...form.points] } : {}),
    ...(form.buildings.length ? { buildings: [...form.buildings] } : {}),
    ...(plate ? { plate } : {}),
    phone_key_allowed: form.phoneKey,
  };
}

/** A pass's status as the list shows it. */
const STATUS_TONES: Record<string, Tone> = {
  active: "success",
  pending_consent: "warning",
  used_up: "default",
  expired: "default",
  revoked: "danger",
  declined: "danger",
};

/** 有效, 待住户确认, 已用完, 已过期, 已撤销, 已拒绝 (an unknown status shows as itself). */
export function passStatusLabel(status: string): string {
  const { t, te } = i18n.global;
  return te(`visitors.status.${status}`) ? t(`visitors.status.${status}`) : status;
}

export function passStatusTone(status: string): Tone {
  return STATUS_TONES[status] ?? "default";
}

/** Whether a pass may still let someone in (and so may be shared or revoked). */
export function passIsLive(status: string): boolean {
  return status === "active" || status === "pending_consent";
}

/** The pass link as the visitor opens it: absolute, on this app's origin when the server gave a path. */
export function absoluteLink(url: string, origin: string = window.location.origin): string {
  return new URL(url, origin).toString();
}

/** How a link went to the visitor: the phone's share sheet, the clipboard, or neither. */
export type ShareOutcome = "shared" | "copied" | "cancelled" | "failed";

/** Hand the pass link to the phone's share sheet (WeChat, SMS…), else put it on the clipboard. */
export async function shareLink(url: string, title: string, text: string): Promise<ShareOutcome> {
  if (typeof navigator.share === "function") {
    try {
      await navigator.share({ title, text, url });
      return "shared";
    } catch (err) {
      // The user closed the sheet: that is a choice, not a failure.
      if (err instanceof DOMException && err.name === "AbortError") return "cancelled";
    }
  }
  return (await copyText(url)) ? "copied" : "failed";
}

/** A live event saying a visitor of this household passed a gate. */
export interface VisitorArrived {
  type: "visitor.arrived";
  pass_id: string;
  door?: string;
  at?: string;
  visitor_name?: string;
}

/** A live event asking this household to let a walk-in visitor in. */
export interface ConsentRequested {
  type: "visitor.consent_requested";
  pass_id: string;
  visitor_name?: string;
  purpose?: string;
}

export function isVisitorArrived(event: { type: string }): event is VisitorArrived {
  return event.type === "visitor.arrived" && typeof (event as { pass_id?: unknown }).pass_id === "string";
}

export function isConsentRequested(event: { type: string }): event is ConsentRequested {
  return event.type === "visitor.consent_requested" && typeof (event as { pass_id?: unknown }).pass_id === "string";
}

/** Identity documents the desk accepts (the guard checks the document itself). */
export const ID_TYPES = ["resident_id", "passport", "hk_macao_permit", "taiwan_permit"] as const;
export type IdType = (typeof ID_TYPES)[number];

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";

/** A mainland resident ID number (18 characters) whose check character is right (GB 11643). */
export function residentIdValid(value: string): boolean {
  const id = value.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const sum = ID_WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17];
}

// The other documents' numbers, as the server checks them.
const ID_PATTERNS: Record<Exclude<IdType, "resident_id">, RegExp> = {
  passport: /^[A-Z0-9]{5,17}$/,
  hk_macao_permit: /^[HM]\d{8}(\d{2})?$/,
  taiwan_permit: /^\d{8}(\d{2})?$/,
};

/** Whether an ID number fits its document type (upper case, spaces ignored). */
export function idNumberValid(type: IdType, value: string): boolean {
  const id = value.replace(/\s/g, "").toUpperCase();
  return type === "resident_id" ? residentIdValid(id) : ID_PATTERNS[type].test(id);
}

/** What the guard types at the desk for a walk-in visitor. */
export interface WalkInForm {
  name: string;
  phone: string;
  idType: IdType;
  idNumber: string;
  householdId: string;
  purpose: string;
  plate: string;
}

export type WalkInErrors = Partial<Record<keyof WalkInForm, string>>;

export function emptyWalkIn(): WalkInForm {
  return { name: "", phone: "", idType: "resident_id", idNumber: "", householdId: "", purpose: "", plate: "" };
}

/** What is wrong with a walk-in registration (i18n keys under `visitors.errors` / `desk.errors`). */
export function validateWalkIn(form: WalkInForm): WalkInErrors {
  const errors: WalkInErrors = validateVisitor(form);
  const id = form.idNumber.trim();
  if (!id) errors.idNumber = "desk.errors.idRequired";
  else if (!idNumberValid(form.idType, id)) errors.idNumber = "desk.errors.idInvalid";
  if (!form.householdId) errors.householdId = "desk.errors.householdRequired";
  if (!form.purpose.trim()) errors.purpose = "desk.errors.purposeRequired";
  else if (form.purpose.trim().length > 100) errors.purpose = "visitors.errors.purposeTooLong";
  return errors;
}

/** The body of `POST /visitor-desk/walk-ins` for a valid form. */
export function walkInBody(form: WalkInForm) {
  const plate = normalPlate(form.plate);
  return {
    visitor_name: form.name.trim(),
    visitor_phone: normalPhone(form.phone),
    id_type: form.idType,
    id_number: form.idNumber.replace(/\s/g, "").toUpperCase(),
    household_id: form.householdId,
    purpose: form.purpose.trim(),
    entries: 1,
    ...(plate ? { plate } : {}),
  };
}

/** A visit's window: "11月25日 14:07 – 18:07" on one day, both dates when it spans several. */
export function formatWindow(from: string, until: string, locale: string): string {
  const start = new Date(from);
  const end = new Date(until);
  const day = { month: "short", day: "numeric" } as const;
  const time = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } as const;
  const sameDay = start.toDateString() === end.toDateString();
  const first = new Intl.DateTimeFormat(locale, { ...day, ...time }).format(start);
  const last = new Intl.DateTimeFormat(locale, sameDay ? time : { ...day, ...time }).format(end);
  return `${first} – ${last}`;
}
