import { describe, expect, it } from "vitest";
import type { CarPark } from "@/api/types";
import { hasPage } from "@/roles";
import {
  applyLiveCarPark,
  checkCarPark,
  checkOccupancy,
  checkWarningSettings,
  endOfDay,
  EXPIRY_SOON_DAYS,
  expiryState,
  lifecycleSteps,
  liveCarPark,
  occupancyPercent,
  parkTone,
  parkTree,
  registryQuery,
  spaces,
  vehicleTier,
  warningForm,
} from "@/vehicleAdmin";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-03T12:00:00Z");

function park(over: Partial<CarPark> = {}): CarPark {
  return {
    id: "p1",
    community_id: "c1",
    parent_id: null,
    name: "地下车库",
    capacity: 10,
    temporary_capacity: 2,
    occupied: 0,
    free: 10,
    temporary_occupied: 0,
    temporary_free: 2,
    full: false,
    free_minutes: 0,
    hourly_fen: 0,
    daily_cap_fen: 0,
    long_stay_days: 7,
    ...over,
  };
}

describe("tiers (VEH-06)", () => {
  it("lets managers run the area, guards read it and nobody else in", () => {
    expect(vehicleTier("property_manager")).toBe("manage");
    expect(vehicleTier("guard")).toBe("read");
    for (const role of ["resident", "police", "maintenance", "system_admin"] as const) expect(vehicleTier(role)).toBeNull();
    expect(vehicleTier(null)).toBeNull();
  });

  it("gives the page's tile to exactly the roles with a tier", () => {
    expect(hasPage("property_manager", "vehicle-admin")).toBe(true);
    expect(hasPage("guard", "vehicle-admin")).toBe(true);
    expect(hasPage("resident", "vehicle-admin")).toBe(false);
    expect(hasPage("police", "vehicle-admin")).toBe(false);
  });
});

describe("lifecycle steps (VEH-07)", () => {
  it("offers the steps the status allows, and none to a reader", () => {
    expect(lifecycleSteps({ status: "registered", valid_until: null }, "manage")).toEqual(["authorise", "change", "cancel"]);
    expect(lifecycleSteps({ status: "active", valid_until: "2027-01-01T00:00:00Z" }, "manage")).toEqual(["change", "extend", "cancel"]);
    expect(lifecycleSteps({ status: "active", valid_until: null }, "manage")).toEqual(["change", "cancel"]);
    expect(lifecycleSteps({ status: "cancelled", valid_until: null }, "manage")).toEqual([]);
    expect(lifecycleSteps({ status: "registered", valid_until: null }, "read")).toEqual([]);
  });
});

describe("expiry", () => {
  it("says expired, soon within the window, and nothing without an end", () => {
    expect(expiryState(null, NOW)).toBeNull();
    expect(expiryState(new Date(NOW - 1).toISOString(), NOW)).toBe("expired");
    expect(expiryState(new Date(NOW + 3 * DAY).toISOString(), NOW)).toBe("soon");
    expect(expiryState(new Date(NOW + (EXPIRY_SOON_DAYS + 1) * DAY).toISOString(), NOW)).toBeNull();
  });

  it("turns a picked day into its last second, and a bad one into nothing", () => {
    const end = endOfDay("2026-12-31");
    expect(end).not.toBeNull();
    const at = new Date(end!);
    expect([at.getFullYear(), at.getMonth(), at.getDate(), at.getHours()]).toEqual([2026, 11, 31, 23]);
    expect(endOfDay("")).toBeNull();
    expect(endOfDay("31/12/2026")).toBeNull();
  });
});

describe("car parks", () => {
  it("shows full in danger, nearly full as a warning, and caps the bar", () => {
    expect(parkTone(park({ full: true, occupied: 3 }))).toBe("danger");
    expect(parkTone(park({ occupied: 9 }))).toBe("warning");
    expect(parkTone(park({ occupied: 2 }))).toBe("success");
    expect(occupancyPercent(park({ occupied: 12 }))).toBe(100);
    expect(occupancyPercent(park({ capacity: 0, occupied: 0 }))).toBe(0);
  });

  it("nests zones under their car park, by name", () => {
    const tree = parkTree([
      park({ id: "z2", parent_id: "p1", name: "B区" }),
      park(),
      park({ id: "z1", parent_id: "p1", name: "A区" }),
      park({ id: "lonely", parent_id: "gone", name: "孤立分区" }),
    ]);
    expect(tree.map((n) => [n.park.id, n.zones.map((z) => z.id)])).toEqual([
      ["p1", ["z1", "z2"]],
      ["lonely", []],
    ]);
  });

  it("applies a live count to the car park it names and ignores other events", () => {
    const live = { type: "car_park.occupancy", car_park: park({ occupied: 2, temporary_occupied: 2, full: true }) };
    const found = liveCarPark(live);
    expect(found?.full).toBe(true);
    expect(liveCarPark({ type: "vehicle.pass", record: {} })).toBeNull();
    expect(liveCarPark({ type: "car_park.occupancy", car_park: { id: 1 } })).toBeNull();
    const next = applyLiveCarPark([park(), park({ id: "p2" })], found!);
    expect(next.map((p) => [p.id, p.occupied, p.full])).toEqual([
      ["p1", 2, true],
      ["p2", 0, false],
    ]);
  });
});

describe("forms", () => {
  it("checks a car park's name and spaces, temporary ones among all", () => {
    expect(checkCarPark({ name: "东区", capacity: "10", temporary_capacity: "2" })).toEqual({});
    expect(checkCarPark({ name: " ", capacity: "-1", temporary_capacity: "x" })).toEqual({
      name: "vadmin.nameRequired",
      capacity: "vadmin.spacesInvalid",
      temporary_capacity: "vadmin.spacesInvalid",
    });
    expect(checkCarPark({ name: "东区", capacity: "2", temporary_capacity: "3" })).toEqual({
      temporary_capacity: "vadmin.temporaryTooMany",
    });
    expect(spaces(" 12 ")).toBe(12);
    expect(spaces("1.5")).toBeNull();
  });

  it("wants a correction's counts never negative and a reason", () => {
    expect(checkOccupancy({ occupied: "3", temporary_occupied: "1", reason: "清点" })).toEqual({});
    expect(checkOccupancy({ occupied: "-1", temporary_occupied: "4", reason: "" })).toEqual({
      occupied: "vadmin.spacesInvalid",
      reason: "vadmin.reasonRequired",
    });
    expect(checkOccupancy({ occupied: "1", temporary_occupied: "2", reason: "x" })).toEqual({
      temporary_occupied: "vadmin.temporaryTooMany",
    });
  });
});

describe("the registry's query", () => {
  it("sends only the filters set, expiry as a date ahead", () => {
    const none = { plate: " ", status: "", vehicleClass: "", household: "", expiring: false } as const;
    expect(registryQuery(none, null, NOW)).toEqual({});
    const all = registryQuery(
      { plate: " 川a12345 ", status: "active", vehicleClass: "blacklisted", household: "h1", expiring: true },
      "c1",
      NOW,
    );
    expect(all).toEqual({
      community_id: "c1",
      plate: "川a12345",
      status: "active",
      vehicle_class: "blacklisted",
      household_id: "h1",
      expires_before: new Date(NOW + EXPIRY_SOON_DAYS * DAY).toISOString(),
    });
  });
});

describe("checkWarningSettings", () => {
  const limits = {
    visitor_grace_minutes: [0, 1440],
    night_start_hour: [0, 23],
    night_end_hour: [0, 23],
    night_min_nights: [1, 31],
    night_window_days: [1, 31],
  };
  const defaults = warningForm({
    visitor_grace_minutes: 30,
    night_start_hour: 23,
    night_end_hour: 5,
    night_min_nights: 3,
    night_window_days: 7,
  });

  it("sends whole numbers within their ranges", () => {
    expect(checkWarningSettings({ ...defaults, visitor_grace_minutes: " 0 " }, limits).body).toEqual({
      visitor_grace_minutes: 0,
      night_start_hour: 23,
      night_end_hour: 5,
      night_min_nights: 3,
      night_window_days: 7,
    });
  });

  it("names each field out of its range, with the range", () => {
    const { problems } = checkWarningSettings(
      { ...defaults, visitor_grace_minutes: "1441", night_start_hour: "24", night_window_days: "x", night_min_nights: "" },
      limits,
    );
    expect(problems).toEqual({
      visitor_grace_minutes: { key: "vadmin.warningSettings.range", min: 0, max: 1440 },
      night_start_hour: { key: "vadmin.warningSettings.range", min: 0, max: 23 },
      night_min_nights: { key: "vadmin.warningSettings.range", min: 1, max: 31 },
      night_window_days: { key: "vadmin.warningSettings.range", min: 1, max: 31 },
    });
    expect(checkWarningSettings({ ...defaults, night_end_hour: "-1" }, limits).problems).toHaveProperty("night_end_hour");
    expect(checkWarningSettings({ ...defaults, night_end_hour: "2.5" }, limits).problems).toHaveProperty("night_end_hour");
  });

  it("refuses a night that starts when it ends, and more nights than days", () => {
    expect(checkWarningSettings({ ...defaults, night_end_hour: "23" }, limits).problems).toEqual({
      night_end_hour: { key: "vadmin.warningSettings.nightEmpty" },
    });
    expect(checkWarningSettings({ ...defaults, night_min_nights: "8" }, limits).problems).toEqual({
      night_min_nights: { key: "vadmin.warningSettings.tooManyNights", max: 7 },
    });
  });
});
