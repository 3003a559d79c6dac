import type { Tariff } from "@/api/types";

/**
 * Temporary parking's rules for the driver's pages and the manager's tariff form: money is whole
 * fen on the wire and yuan on screen; a stay in hours and minutes; a ticket code as typed.
 */

type Translate = (key: string, params?: Record<string, unknown>) => string;

/** ¥15.00 — fen shown as yuan with two decimals (the same in both languages). */
export function yuan(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "5.5" → 550 fen; null for anything that is not a non-negative amount with at most 2 decimals. */
export function fenOf(text: string): number | null {
  const match = /^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
}

/** Yuan for an input field: 550 → "5.5", 500 → "5", 0 → "0". */
export function yuanInput(fen: number): string {
  return String(fen / 100);
}

/** 2小时10分 / 2 h 10 min. */
export function stay(minutes: number, t: Translate): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return t("park.minutes", { n: rest });
  return rest === 0 ? t("park.hours", { n: hours }) : t("park.hoursMinutes", { h: hours, m: rest });
}

/** The posted prices in one line each: free minutes, per hour, the day's cap (or free parking). */
export function tariffLines(tariff: Tariff, t: Translate): string[] {
  const hourly = tariff.hourly_fen ?? 0;
  if (hourly === 0) return [t("park.tariff.free")];
  const lines = [];
  if (tariff.free_minutes) lines.push(t("park.tariff.freeMinutes", { n: tariff.free_minutes }));
  lines.push(t("park.tariff.hourly", { price: yuan(hourly) }));
  if (tariff.daily_cap_fen) lines.push(t("park.tariff.cap", { price: yuan(tariff.daily_cap_fen) }));
  return lines;
}

/** A ticket code as the driver typed it: spaces and dashes out, upper case. */
export function cleanCode(text: string): string {
  return text.replace(/[\s-]+/g, "").toUpperCase();
}

/** 8 characters of the ticket alphabet (no 0, 1, I, O). */
export function isCode(text: string): boolean {
  return /^[2-9A-HJ-NP-Z]{8}$/.test(cleanCode(text));
}

/** A ticket code shown in two groups of four, easier to read out: K7M2 Q9XD. */
export function groupedCode(code: string): string {
  return code.length === 8 ? `${code.slice(0, 4)} ${code.slice(4)}` : code;
}
