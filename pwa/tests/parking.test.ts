import { describe, expect, it } from "vitest";
import { i18n, setLocale } from "@/i18n";
import { cleanCode, fenOf, groupedCode, isCode, stay, tariffLines, yuan, yuanInput } from "@/parking";

const t = (key: string, params?: Record<string, unknown>) => i18n.global.t(key, params ?? {});

describe("money", () => {
  it.each([
    [0, "¥0.00"],
    [5, "¥0.05"],
    [1500, "¥15.00"],
    [123456, "¥1234.56"],
  ])("shows %i fen as %s", (fen, shown) => {
    expect(yuan(fen)).toBe(shown);
  });

  it.each([
    ["5", 500],
    ["5.5", 550],
    [" 0.05 ", 5],
    ["30.00", 3000],
    ["0", 0],
  ])("reads %s yuan as %i fen", (text, fen) => {
    expect(fenOf(text)).toBe(fen);
    expect(fenOf(yuanInput(fen))).toBe(fen);
  });

  it.each(["", "-1", "5.555", "五元", "1e3", "5,5"])("refuses %s", (text) => {
    expect(fenOf(text)).toBeNull();
  });
});

describe("stays and tariffs", () => {
  it("says a stay in hours and minutes in both languages", () => {
    setLocale("zh-CN");
    expect([stay(9, t), stay(120, t), stay(130, t)]).toEqual(["9分钟", "2小时", "2小时10分钟"]);
    setLocale("en");
    expect(stay(130, t)).toBe("2 h 10 min");
    setLocale("zh-CN");
  });

  it("posts the prices, or free parking", () => {
    setLocale("zh-CN");
    expect(tariffLines({ free_minutes: 15, hourly_fen: 500, daily_cap_fen: 3000 }, t)).toEqual([
      "15分钟内免费",
      "每小时 ¥5.00（不足1小时按1小时计）",
      "每日最高 ¥30.00",
    ]);
    expect(tariffLines({ free_minutes: 30, hourly_fen: 0, daily_cap_fen: 0 }, t)).toEqual(["免费停车"]);
  });
});

describe("ticket codes", () => {
  it("reads a code as typed and shows it in two groups", () => {
    expect(cleanCode(" k7m2-q9xd ")).toBe("K7M2Q9XD");
    expect(isCode("k7m2 q9xd")).toBe(true);
    expect(isCode("K7M2Q9X0")).toBe(false); // 0 is not in the alphabet
    expect(isCode("K7M2")).toBe(false);
    expect(groupedCode("K7M2Q9XD")).toBe("K7M2 Q9XD");
  });
});
