import { describe, expect, it } from "vitest";
import { assetChanges, type AssetForm, checkAsset, MOVES, nextStatuses, placeLine, STATUSES, stockAfter, warrantyState } from "@/ledger";

const form: AssetForm = {
  kind: "extinguisher",
  name: " 灭火器 ",
  building_id: "",
  floor: "3",
  location_text: " 楼梯口 ",
  owner_party: "",
  user_party: "",
  om_party: "维保公司",
  vendor: "",
  model: "",
  serial_no: "",
  install_date: "2026-01-01",
  warranty_end: "",
  status: "in_stock",
  notes: "",
  purchase_cost: "",
};

describe("lifecycle", () => {
  it("goes from stock to service and back from repair, and nowhere from retired", () => {
    expect(nextStatuses("in_stock")).toEqual(["installed", "retired"]);
    expect(nextStatuses("under_repair")).toContain("in_service");
    expect(nextStatuses("retired")).toEqual([]);
  });

  it("lets every status but retired be retired, and never moves to itself", () => {
    for (const status of STATUSES) {
      expect(MOVES[status]).not.toContain(status);
      if (status !== "retired") expect(MOVES[status]).toContain("retired");
    }
  });
});

describe("warrantyState", () => {
  const today = new Date("2026-12-03T08:00:00Z");
  it("says expired before today, soon within 30 days, nothing after or without a date", () => {
    expect(warrantyState("2026-12-02", today)).toBe("expired");
    expect(warrantyState("2026-12-03", today)).toBe("soon");
    expect(warrantyState("2027-01-02", today)).toBe("soon");
    expect(warrantyState("2027-01-03", today)).toBeNull();
    expect(warrantyState(null, today)).toBeNull();
  });
});

describe("checkAsset", () => {
  it("accepts a named asset of a hand kind", () => {
    expect(checkAsset(form, true)).toEqual({});
  });
  it("asks for a name, a hand kind on a new asset, a whole floor and a warranty after installing", () => {
    expect(
      checkAsset({ ...form, name: " ", kind: "camera", floor: "2.5", warranty_end: "2025-01-01" }, true),
    ).toEqual({
      name: "ledger.check.name",
      kind: "ledger.check.kind",
      floor: "ledger.check.floor",
      warranty_end: "ledger.check.warranty",
    });
    expect(checkAsset({ ...form, kind: "camera" }, false)).toEqual({});
  });
  it("takes a purchase cost in yuan with at most two decimals", () => {
    expect(checkAsset({ ...form, purchase_cost: "1280.5" }, true)).toEqual({});
    expect(checkAsset({ ...form, purchase_cost: "12.345" }, true)).toEqual({ purchase_cost: "ledger.check.cost" });
    expect(checkAsset({ ...form, purchase_cost: "-3" }, true)).toEqual({ purchase_cost: "ledger.check.cost" });
    expect(assetChanges({ ...form, purchase_cost: "1280.5" }, true).purchase_cost).toBe(128050);
    expect(assetChanges(form, true).purchase_cost).toBeNull();
  });
});

describe("assetChanges", () => {
  it("trims texts, turns empty dates and floor into null, and leaves name and place to a bridge", () => {
    const hand = assetChanges({ ...form, floor: "" }, false);
    expect(hand).toMatchObject({ name: "灭火器", location_text: "楼梯口", floor: null, warranty_end: null, building_id: null });
    const bridged = assetChanges(form, true);
    expect(bridged.floor).toBe(3);
    expect("name" in bridged || "building_id" in bridged).toBe(false);
  });
});

describe("placeLine and stockAfter", () => {
  it("joins building, unit, floor and free text", () => {
    expect(placeLine({ building_name: "1栋", unit_number: "2", floor: 3, location_text: "东侧" })).toBe("1栋 2单元 3层 东侧");
    expect(placeLine({ building_name: null, unit_number: null, floor: null, location_text: "北门" })).toBe("北门");
  });
  it("never takes the stock below zero", () => {
    expect(stockAfter(5, "out", 5)).toBe(0);
    expect(stockAfter(5, "out", 6)).toBeNull();
    expect(stockAfter(5, "in", 2)).toBe(7);
    expect(stockAfter(5, "adjust", 1)).toBe(1);
    expect(stockAfter(5, "in", -1)).toBeNull();
  });
});
