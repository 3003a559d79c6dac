import { ApiError } from "@/api/client";
import { currentLocale, i18n } from "@/i18n";
import { formatDateTime } from "@/format";

/** A sentence for the user, in the current language, about why a call failed. */
export function describeError(err: unknown): string {
  const { t, te } = i18n.global;
  if (!(err instanceof ApiError)) return t("errors.unknown");
  switch (err.code) {
    case "account_locked": {
      const until = err.extra.locked_until;
      return t("errors.account_locked", {
        time: typeof until === "string" ? formatDateTime(until, currentLocale()) : "",
      });
    }
    case "weak_password":
      return t("errors.weak_password", { detail: err.message });
  }
  const key = `errors.${err.code}`;
  if (te(key)) return t(key);
  return err.message || t("errors.unknown");
}

/**
 * The form field a refusal names, as `{ field: "errors.<code>" }` (the field's message), when the
 * server's code is one the form maps to a field of its own (`invalid_phone` → phone); else null.
 */
export function fieldErrorOf<F extends string>(
  err: unknown,
  fieldOfCode: Readonly<Record<string, F>>,
): Partial<Record<F, string>> | null {
  if (!(err instanceof ApiError) || !Object.hasOwn(fieldOfCode, err.code)) return null;
  return { [fieldOfCode[err.code]!]: `errors.${err.code}` } as Partial<Record<F, string>>;
}
