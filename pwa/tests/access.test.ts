import { afterEach, describe, expect, it } from "vitest";
import {
  accessKindLabel,
  credentialValueProblem,
  describeWindow,
  formatFloors,
  parseFloors,
  windowValid,
  accessLogCsvUrl,
  accessLogQuery,
  activeFilterCount,
  deniedReasonLabel,
  emptyLogFilters,
  logFiltersProblem,
} from "@/access";
import { setLocale } from "@/i18n";

afterEach(() => setLocale("zh-CN", { persist: false }));

describe("access point and refusal labels", () => {
  it("name every kind of access point", () => {
    expect(["gate", "unit_door", "turnstile", "lift", "key_room"].map(accessKindLabel)).toEqual([
      "大门",
      "单元门",
      "闸机",
      "电梯",
      "重点房间",
    ]);
    expect(accessKindLabel("garage")).toBe("garage");
  });

  it("say why a reader refused, in the reader's language", () => {
    expect(deniedReasonLabel("qr_reused")).toBe("二维码已使用过");
    expect(deniedReasonLabel("out_of_schedule")).toBe("不在允许通行的时段");
    setLocale("en", { persist: false });
    expect(deniedReasonLabel("revoked")).toBe("Credential revoked");
    expect(deniedReasonLabel("something_new")).toBe("something_new");
  });
});

describe("access log filters", () => {
  it("ask for everything when nothing is set", () => {
    expect(accessLogQuery(emptyLogFilters())).toEqual({});
    expect(accessLogCsvUrl(emptyLogFilters())).toBe("/api/v1/access-records.csv");
    expect(activeFilterCount(emptyLogFilters())).toBe(0);
  });

  it("send only what is set, with zoned times, to the list and the CSV alike", () => {
    const filters = {
      ...emptyLogFilters(),
      since: "2026-11-01T00:00",
      until: "2026-11-25T23:59",
      pointId: "p-1",
      method: "qr",
      result: "denied" as const,
      personId: "x-9",
    };
    const query = accessLogQuery(filters);
    expect(query).toEqual({
      since: new Date(2026, 10, 1, 0, 0).toISOString(),
      until: new Date(2026, 10, 25, 23, 59).toISOString(),
      point_id: "p-1",
      method: "qr",
      result: "denied",
      person_id: "x-9",
    });
    const url = new URL(accessLogCsvUrl(filters), "https://anju.example");
    expect(url.pathname).toBe("/api/v1/access-records.csv");
    expect(Object.fromEntries(url.searchParams)).toEqual(query);
    expect(activeFilterCount(filters)).toBe(6);
  });

  it("refuse a time range that runs backwards", () => {
    const filters = { ...emptyLogFilters(), since: "2026-11-25T10:00", until: "2026-11-25T09:00" };
    expect(logFiltersProblem(filters)).toBe("access.log.rangeInvalid");
    expect(logFiltersProblem({ ...filters, until: "" })).toBe("");
  });
});

describe("lift floors", () => {
  it("read ranges and lists, basements too, in order without repeats", () => {
    expect(parseFloors("1-3,5")).toEqual([1, 2, 3, 5]);
    expect(parseFloors("5，1、2 2")).toEqual([1, 2, 5]);
    expect(parseFloors("-2-1")).toEqual([-2, -1, 0, 1]);
    expect(parseFloors("")).toEqual([]);
  });

  it("refuse what they cannot read", () => {
    expect(parseFloors("1-")).toBeNull();
    expect(parseFloors("5-1")).toBeNull();
    expect(parseFloors("lobby")).toBeNull();
    expect(parseFloors("1-999")).toBeNull();
  });

  it("write floors back the short way", () => {
    expect(formatFloors([5, 1, 2, 3])).toBe("1-3,5");
    expect(formatFloors([])).toBe("");
    expect(parseFloors(formatFloors([-1, 0, 1, 7, 9, 10]))).toEqual([-1, 0, 1, 7, 9, 10]);
  });
});

describe("schedule windows", () => {
  it("need days and two different well-formed times", () => {
    expect(windowValid({ days: [1, 2, 3, 4, 5], start: "08:00", end: "18:00" })).toBe(true);
    expect(windowValid({ days: [6], start: "22:00", end: "06:00" })).toBe(true); // overnight
    expect(windowValid({ days: [], start: "08:00", end: "18:00" })).toBe(false);
    expect(windowValid({ days: [1], start: "08:00", end: "08:00" })).toBe(false);
    expect(windowValid({ days: [1], start: "8:00", end: "18:00" })).toBe(false);
  });

  it("read as a line", () => {
    expect(describeWindow({ days: [5, 1, 2, 3, 4], start: "08:00", end: "18:00" })).toBe("一–五 08:00–18:00");
    expect(describeWindow({ days: [6, 7], start: "09:00", end: "12:00" })).toBe("六 日 09:00–12:00");
  });
});

describe("credential values", () => {
  it("take card numbers of 4 to 32 letters and digits and PINs of 4 to 8 digits", () => {
    expect(credentialValueProblem("card", "0012345678")).toBe("");
    expect(credentialValueProblem("card", "12")).toBe("access.credentials.cardInvalid");
    expect(credentialValueProblem("pin", "123456")).toBe("");
    expect(credentialValueProblem("pin", "12a4")).toBe("access.credentials.pinInvalid");
    expect(credentialValueProblem("face", "")).toBe("");
  });

  it("take a fingerprint reader's template id of 4 to 32 printable characters", () => {
    expect(credentialValueProblem("fingerprint", "fp-0042")).toBe("");
    expect(credentialValueProblem("fingerprint", "fp")).toBe("access.credentials.fingerprintInvalid");
    expect(credentialValueProblem("fingerprint", "指纹一号")).toBe("access.credentials.fingerprintInvalid");
  });
});
