/**
 * Self-registration (业主认证, docs/accounts.md): the join page's checks, which mirror the API's
 * (api/accounts/joining/), and the words the manager's queue shows. Messages are i18n keys.
 */

export interface JoinForm {
  unitId: string;
  room: string;
  name: string;
  phone: string;
  code: string;
  username: string;
  password: string;
}

export type JoinField = keyof JoinForm;

export const CODE_WAIT_SECONDS = 60;

/** A mainland mobile number, as the API normalises it (spaces, dashes and +86 dropped). */
export function normalizePhone(value: string): string {
  return value.replace(/[\s-]/g, "").replace(/^\+?86(?=1\d{10}$)/, "");
}

export function validPhone(value: string): boolean {
  return /^1[3-9]\d{9}$/.test(normalizePhone(value));
}

/** What is wrong with the form before it is sent: field → i18n key; empty when it may be sent. */
export function joinErrors(form: JoinForm): Partial<Record<JoinField, string>> {
  const errors: Partial<Record<JoinField, string>> = {};
  if (!form.unitId) errors.unitId = "joining.errors.unit";
  if (!form.room.trim()) errors.room = "joining.errors.room";
  if (!form.name.trim()) errors.name = "joining.errors.name";
  if (!validPhone(form.phone)) errors.phone = "errors.invalid_phone";
  if (!/^\d{6}$/.test(form.code.trim())) errors.code = "joining.errors.code";
  if (!/^[a-zA-Z0-9_.@-]{3,64}$/.test(form.username)) errors.username = "joining.errors.username";
  if (!form.password) errors.password = "joining.errors.password";
  return errors;
}

/** The server's refusals that belong to one field of the form. */
export const JOIN_FIELD_OF_CODE = {
  invalid_phone: "phone",
  wrong_code: "code",
  no_such_unit: "unitId",
  username_taken: "username",
  weak_password: "password",
} as const satisfies Record<string, JoinField>;

/** "1栋 2单元 0301" in Chinese, "Bldg 1 · Unit 2 · 0301" in English (words from i18n). */
export function placeOf(
  request: { building_number: string; unit_number: string; room: string },
  words: { building: string; unit: string },
): string {
  return [
    words.building.replace("{n}", request.building_number),
    words.unit.replace("{n}", request.unit_number),
    request.room,
  ].join(" · ");
}

/** Seconds until another code may be asked for (the button counts down), never below zero. */
export function waitLeft(sentAt: number | null, now: number, wait = CODE_WAIT_SECONDS): number {
  if (sentAt === null) return 0;
  return Math.min(wait, Math.max(0, Math.ceil(wait - (now - sentAt) / 1000)));
}
