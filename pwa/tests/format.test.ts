import { afterEach, describe, expect, it } from "vitest";
import { elapsed, fenToYuan, formatRelative, formatShortDateTime, formatYuan, yuanToFen } from "@/format";
import { i18n, setLocale } from "@/i18n";

const NOW = Date.parse("2026-11-25T08:32:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const t = (key: string, params: Record<string, unknown>) => i18n.global.t(key, params);

afterEach(() => setLocale("zh-CN", { persist: false }));

describe("elapsed", () => {
  it("calls anything under a minute now, a skewed clock's future too", () => {
    expect(elapsed(ago(0), NOW)).toEqual({ unit: "now" });
    expect(elapsed(ago(59 * SECOND), NOW)).toEqual({ unit: "now" });
    expect(elapsed(ago(-5 * SECOND), NOW)).toEqual({ unit: "now" });
  });

  it("counts whole minutes, hours and days, rounding down", () => {
    expect(elapsed(ago(MINUTE), NOW)).toEqual({ unit: "minutes", count: 1 });
    expect(elapsed(ago(3 * MINUTE + 59 * SECOND), NOW)).toEqual({ unit: "minutes", count: 3 });
    expect(elapsed(ago(59 * MINUTE), NOW)).toEqual({ unit: "minutes", count: 59 });
    expect(elapsed(ago(HOUR), NOW)).toEqual({ unit: "hours", count: 1 });
    expect(elapsed(ago(23 * HOUR + 59 * MINUTE), NOW)).toEqual({ unit: "hours", count: 23 });
    expect(elapsed(ago(DAY), NOW)).toEqual({ unit: "days", count: 1 });
    expect(elapsed(ago(6 * DAY), NOW)).toEqual({ unit: "days", count: 6 });
  });

  it("gives up counting after a week, and on a timestamp it cannot read", () => {
    expect(elapsed(ago(7 * DAY), NOW)).toEqual({ unit: "date" });
    expect(elapsed("yesterday-ish", NOW)).toEqual({ unit: "date" });
  });
});

describe("formatRelative", () => {
  it("speaks Chinese first", () => {
    expect(formatRelative(ago(10 * SECOND), NOW, t, "zh-CN")).toBe("刚刚");
    expect(formatRelative(ago(3 * MINUTE), NOW, t, "zh-CN")).toBe("3 分钟前");
    expect(formatRelative(ago(2 * HOUR), NOW, t, "zh-CN")).toBe("2 小时前");
    expect(formatRelative(ago(5 * DAY), NOW, t, "zh-CN")).toBe("5 天前");
  });

  it("and English when chosen", () => {
    setLocale("en", { persist: false });
    expect(formatRelative(ago(10 * SECOND), NOW, t, "en")).toBe("just now");
    expect(formatRelative(ago(3 * MINUTE), NOW, t, "en")).toBe("3 min ago");
    expect(formatRelative(ago(2 * HOUR), NOW, t, "en")).toBe("2 h ago");
  });

  it("shows an old timestamp as its date", () => {
    const old = "2026-10-01T04:05:00Z";
    expect(formatRelative(old, NOW, t, "zh-CN")).toBe(formatShortDateTime(old, "zh-CN", NOW));
  });
});

describe("formatShortDateTime", () => {
  it("leaves out this year but not another", () => {
    const local = (iso: string) => new Date(iso);
    const thisYear = formatShortDateTime("2026-03-04T05:06:00Z", "zh-CN", NOW);
    expect(thisYear).toContain(`${local("2026-03-04T05:06:00Z").getMonth() + 1}月`);
    expect(thisYear).not.toContain("2026");
    expect(formatShortDateTime("2025-03-04T05:06:00Z", "zh-CN", NOW)).toContain("2025");
  });
});

describe("amounts in fen", () => {
  it("show as yuan with two decimals", () => {
    expect(formatYuan(123450)).toBe("¥1,234.50");
    expect(formatYuan(5)).toBe("¥0.05");
    expect(formatYuan(0)).toBe("¥0.00");
    expect(formatYuan(null)).toBe("—");
  });
  it("are typed in yuan, exactly (no float rounding)", () => {
    expect(yuanToFen("35.5")).toBe(3550);
    expect(yuanToFen("¥1,280.07")).toBe(128007);
    expect(yuanToFen("0.29")).toBe(29);
    expect(yuanToFen(" ")).toBeNull();
    expect(yuanToFen("1.234")).toBeNaN();
    expect(yuanToFen("abc")).toBeNaN();
    expect(fenToYuan(3550)).toBe("35.50");
    expect(fenToYuan(null)).toBe("");
  });
});
