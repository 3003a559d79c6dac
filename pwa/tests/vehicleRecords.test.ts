import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "@/i18n";
import {
  activePassFilters,
  carParksOption,
  dailyOption,
  dateInput,
  dayRange,
  dayRangeProblem,
  emptyPassFilters,
  filtersFromRoute,
  filtersToRoute,
  lanesOption,
  lastDays,
  passClassLabel,
  passCsvUrl,
  passFiltersProblem,
  passQuery,
  peakHour,
  shareOption,
  totals,
  warningKindLabel,
} from "@/vehicleRecords";

afterEach(() => setLocale("zh-CN", { persist: false }));

describe("pass record filters", () => {
  it("send only what is set, the plate with its fuzziness, times zoned", () => {
    expect(passQuery(emptyPassFilters())).toEqual({});
    const filters = { ...emptyPassFilters(), plate: " 川A12345 ", decision: "denied" as const, since: "2026-12-01T08:00" };
    expect(passQuery(filters)).toEqual({
      plate: "川A12345",
      fuzzy: true,
      decision: "denied",
      since: new Date("2026-12-01T08:00").toISOString(),
    });
  });

  it("make the CSV address with the same query", () => {
    const url = passCsvUrl({ ...emptyPassFilters(), laneId: "l1", vehicleClass: "unregistered" });
    expect(url).toBe("/api/v1/vehicle-passes.csv?lane_id=l1&vehicle_class=unregistered");
    expect(passCsvUrl(emptyPassFilters())).toBe("/api/v1/vehicle-passes.csv");
  });

  it("travel to the print view and back unchanged, and ignore junk there", () => {
    const filters = { ...emptyPassFilters(), plate: "川A12345", fuzzy: false, direction: "out" as const, carParkId: "p" };
    expect(filtersFromRoute(filtersToRoute(filters))).toEqual(filters);
    expect(filtersFromRoute({ direction: "sideways", decision: "maybe", vehicleClass: 3 })).toEqual(emptyPassFilters());
  });

  it("refuse a range that runs backwards and a plate too short", () => {
    expect(passFiltersProblem({ ...emptyPassFilters(), since: "2026-12-02T00:00", until: "2026-12-01T00:00" })).toBe(
      "vehicleRecords.rangeInvalid",
    );
    expect(passFiltersProblem({ ...emptyPassFilters(), plate: "川A1" })).toBe("vehicleRecords.plateInvalid");
    expect(passFiltersProblem({ ...emptyPassFilters(), plate: "川A12345" })).toBe("");
  });

  it("count the sheet's filters for the badge (not the plate or the decision chips)", () => {
    expect(activePassFilters({ ...emptyPassFilters(), plate: "川A12345", laneId: "l", since: "x" })).toBe(2);
  });
});

describe("statistics", () => {
  const stats = {
    days: [
      { day: "2026-12-01", entries: 2, exits: 0 },
      { day: "2026-12-02", entries: 0, exits: 1 },
    ],
    hours: Array.from({ length: 24 }, (_, hour) => ({ hour, entries: hour === 8 ? 2 : hour === 18 ? 1 : 0, exits: 0 })),
    lanes: [
      { lane_id: "a", lane_name: "北门入口", count: 4 },
      { lane_id: "b", lane_name: "北门出口", count: 1 },
    ],
  };

  it("sum the range and find the busiest hour", () => {
    expect(totals(stats)).toEqual({ entries: 2, exits: 1 });
    expect(peakHour(stats)).toBe(8);
    expect(peakHour({ hours: [{ hour: 0, entries: 0, exits: 3 }] })).toBeNull();
  });

  it("build the charts' options from the figures", () => {
    const labels = { entries: "入场", exits: "出场", occupied: "在场" };
    const daily = dailyOption(stats, labels);
    expect(daily.xAxis.data).toEqual(["12-01", "12-02"]);
    expect(daily.series.map((s) => s.data)).toEqual([
      [2, 0],
      [0, 1],
    ]);
    expect(lanesOption(stats).yAxis.data).toEqual(["北门出口", "北门入口"]); // busiest on top
    const share = shareOption([{ key: "resident", count: 2 }], passClassLabel);
    expect(share.series[0]!.data).toEqual([{ name: "业主", value: 2 }]);
  });

  it("take the last days up to the end of today", () => {
    const { since, until } = lastDays(7, new Date(2026, 11, 3, 15, 30));
    expect(new Date(until)).toEqual(new Date(2026, 11, 4, 0, 0));
    expect(new Date(since)).toEqual(new Date(2026, 10, 27, 0, 0));
  });
});

describe("police statistics", () => {
  it("take whole local days, both ends included", () => {
    const range = dayRange("2026-12-01", "2026-12-03");
    expect(range).toEqual({
      since: new Date(2026, 11, 1).toISOString(),
      until: new Date(2026, 11, 4).toISOString(),
    });
    expect(dateInput(new Date(2026, 0, 5, 23, 59))).toBe("2026-01-05");
    expect(dayRange("", "2026-12-03")).toBeNull();
  });

  it("refuse a missing, backwards or too long range", () => {
    expect(dayRangeProblem("2026-12-01", "2026-12-01")).toBe("");
    expect(dayRangeProblem("", "2026-12-01")).toBe("vehicleRecords.policeStats.rangeMissing");
    expect(dayRangeProblem("2026-12-02", "2026-12-01")).toBe("vehicleRecords.policeStats.rangeBackwards");
    expect(dayRangeProblem("2024-01-01", "2026-12-01")).toBe("vehicleRecords.policeStats.rangeTooLong");
  });

  it("stack each car park's cars on its free spaces", () => {
    const option = carParksOption(
      [
        { name: "北门车库", capacity: 10, occupied: 3 },
        { name: "地面", capacity: 2, occupied: 5 },
      ],
      { occupied: "在场", free: "空位" },
    );
    expect(option.yAxis.data).toEqual(["地面", "北门车库"]);
    expect(option.series[0]!.data).toEqual([5, 3]);
    expect(option.series[1]!.data).toEqual([0, 7]);
  });
});

describe("labels", () => {
  it("name classes and warning kinds in both languages", () => {
    expect(passClassLabel("unregistered")).toBe("未登记");
    expect(warningKindLabel("long_stay")).toBe("长期滞留");
    setLocale("en", { persist: false });
    expect(warningKindLabel("night_frequent")).toBe("Frequent night visits");
    expect(passClassLabel("odd")).toBe("odd");
  });
});
