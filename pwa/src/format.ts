/** A timestamp as people of `locale` read it, e.g. 2026年11月25日 16:32:05 or Nov 25, 2026, 4:32:05 PM. */
export function formatDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}

/** A short timestamp for lists: 11月25日 16:32, or Nov 25, 4:32 PM (the year only when not this one). */
export function formatShortDateTime(iso: string, locale: string, now: number = Date.now()): string {
  const date = new Date(iso);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale, {
    ...(sameYear ? {} : { year: "numeric" }),
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  }).format(date);
}

/** How long ago something happened, in the coarsest unit that still says something. */
export type Elapsed =
  | { unit: "now" }
  | { unit: "minutes" | "hours" | "days"; count: number }
  | { unit: "date" };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Under a minute (or slightly in the future, from a skewed clock) is "now"; a week or more a date. */
export function elapsed(iso: string, now: number): Elapsed {
  const ms = now - new Date(iso).getTime();
  if (Number.isNaN(ms)) return { unit: "date" };
  if (ms < MINUTE) return { unit: "now" };
  if (ms < HOUR) return { unit: "minutes", count: Math.floor(ms / MINUTE) };
  if (ms < DAY) return { unit: "hours", count: Math.floor(ms / HOUR) };
  if (ms < 7 * DAY) return { unit: "days", count: Math.floor(ms / DAY) };
  return { unit: "date" };
}

type Translate = (key: string, params: Record<string, unknown>) => string;

const ELAPSED_KEYS = { minutes: "time.minutesAgo", hours: "time.hoursAgo", days: "time.daysAgo" } as const;

/** "刚刚", "3 分钟前", "2 小时前", "5 天前", then the date: how a list says when something was last seen. */
export function formatRelative(iso: string, now: number, t: Translate, locale: string): string {
  const ago = elapsed(iso, now);
  switch (ago.unit) {
    case "now":
      return t("time.justNow", {});
    case "date":
      return formatShortDateTime(iso, locale, now);
    default:
      return t(ELAPSED_KEYS[ago.unit], { n: ago.count });
  }
}

/** An amount in fen (分) as yuan with two decimals: 123450 → ¥1,234.50; null → "—". */
export function formatYuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return "—";
  const sign = fen < 0 ? "-" : "";
  const yuan = (Math.abs(fen) / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${sign}¥${yuan}`;
}

/** Yuan as typed ("1234.5", "¥12") to fen; null for an empty field, NaN for anything else. */
export function yuanToFen(text: string): number | null {
  const trimmed = text.trim().replace(/^¥/, "").replace(/,/g, "");
  if (!trimmed) return null;
  if (!/^\d{1,8}(\.\d{1,2})?$/.test(trimmed)) return Number.NaN;
  const [whole, part = ""] = trimmed.split(".");
  return Number(whole) * 100 + Number(part.padEnd(2, "0"));
}

/** Fen as the yuan a form field shows: 123450 → "1234.50", null → "". */
export function fenToYuan(fen: number | null | undefined): string {
  return fen === null || fen === undefined ? "" : (fen / 100).toFixed(2);
}
