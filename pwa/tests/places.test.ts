import { describe, expect, it } from "vitest";
import { buildingBody, checkBuilding, checkCommunity, checkRoom, checkUnit, placeRights } from "@/places";

describe("placeRights", () => {
  it("lets the system administrator make communities and buildings, the manager buildings and households", () => {
    expect(placeRights("system_admin")).toEqual({ communities: true, buildings: true, households: false });
    expect(placeRights("property_manager")).toEqual({ communities: false, buildings: true, households: true });
  });

  it("lets no one else change a place", () => {
    for (const role of ["resident", "guard", "police", "security_admin", "audit_admin", null] as const) {
      expect(placeRights(role)).toEqual({ communities: false, buildings: false, households: false });
    }
  });
});

describe("checkCommunity", () => {
  const good = { code: "510104001001001", name: "幸福里", address: "锦江区幸福路 1 号" };

  it("accepts a 15-digit code with a name and an address", () => {
    expect(checkCommunity(good, true)).toEqual({});
  });

  it("asks for 15 digits, a name and an address", () => {
    expect(checkCommunity({ code: "51010400100100", name: " ", address: "" }, true)).toEqual({
      code: "places.check.code",
      name: "places.check.required",
      address: "places.check.required",
    });
  });

  it("does not check the code of a community being edited (it cannot change)", () => {
    expect(checkCommunity({ ...good, code: "" }, false)).toEqual({});
  });
});

describe("checkBuilding", () => {
  it("takes a posted number without a leading zero and 1–200 floors", () => {
    expect(checkBuilding({ number: "12", name: "", floors: "18" }, true)).toEqual({});
    expect(checkBuilding({ number: "03", name: "", floors: "0" }, true)).toEqual({
      number: "places.check.buildingNumber",
      floors: "places.check.floors",
    });
    expect(checkBuilding({ number: "1000", name: "", floors: "201" }, true)).toEqual({
      number: "places.check.buildingNumber",
      floors: "places.check.floors",
    });
    expect(checkBuilding({ number: "", name: "", floors: "2.5" }, false)).toEqual({ floors: "places.check.floors" });
  });

  it("sends the name only when one is given", () => {
    expect(buildingBody({ number: " 3 ", name: " ", floors: "18" })).toEqual({ number: "3", floors: 18 });
    expect(buildingBody({ number: "3", name: "商业楼", floors: "6" })).toEqual({ number: "3", floors: 6, name: "商业楼" });
  });
});

describe("checkUnit", () => {
  it("takes 1–99", () => {
    expect(checkUnit("2")).toEqual({});
    expect(checkUnit("99")).toEqual({});
    expect(checkUnit("0")).toEqual({ number: "places.check.unitNumber" });
    expect(checkUnit("100")).toEqual({ number: "places.check.unitNumber" });
  });
});

describe("checkRoom", () => {
  it("takes a 4-digit room on a floor of the building", () => {
    expect(checkRoom("0302", 18)).toEqual({});
    expect(checkRoom("1801", 18)).toEqual({});
  });

  it("says the room's format, or that its floor is not in the building, as the server would", () => {
    expect(checkRoom("302", 18)).toEqual({ room: "places.check.room" });
    expect(checkRoom("1901", 18)).toEqual({ room: "errors.invalid_room" });
    expect(checkRoom("0000", 18)).toEqual({ room: "errors.invalid_room" });
    expect(checkRoom("0300", 18)).toEqual({ room: "errors.invalid_room" });
  });
});
