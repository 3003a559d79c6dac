import { describe, expect, it } from "vitest";
import {
  checkMoveOut,
  checkPerson,
  checkPurpose,
  movedOutParam,
  residenceOf,
  residentRights,
  searchParams,
  today,
  validIdNumber,
  validPhone,
} from "@/residents";

const form = {
  name: "王小明",
  phone: "13912345678",
  id_number: "510104199001011230",
  category: "permanent" as const,
  relation: "member" as const,
};

describe("residents", () => {
  it("lets the manager write and the manager and police reveal", () => {
    expect(residentRights("property_manager")).toEqual({ write: true, reveal: true });
    expect(residentRights("community_officer")).toEqual({ write: false, reveal: false });
    expect(residentRights("police")).toEqual({ write: false, reveal: true });
    expect(residentRights(null)).toEqual({ write: false, reveal: false });
  });

  it("reads a phone or an ID number in the search box as an exact match, anything else as a name", () => {
    expect(searchParams(" 139-1234-5678 ")).toEqual({ phone: "13912345678" });
    expect(searchParams("+8613912345678")).toEqual({ phone: "13912345678" });
    expect(searchParams("11010519491231002x")).toEqual({ id_number: "11010519491231002X" });
    expect(searchParams("张三")).toEqual({ q: "张三" });
    expect(searchParams("1391234")).toEqual({ q: "1391234" });
    expect(searchParams("  ")).toEqual({});
  });

  it("maps the residence chips to the moved_out filter", () => {
    expect(movedOutParam("living")).toBe(false);
    expect(movedOutParam("moved_out")).toBe(true);
    expect(movedOutParam("all")).toBeUndefined();
  });

  it("tells living, moved out and no household apart", () => {
    expect(residenceOf({ household_id: "h", moved_out_on: null })).toBe("living");
    expect(residenceOf({ household_id: "h", moved_out_on: "2026-11-01" })).toBe("moved_out");
    expect(residenceOf({ household_id: null, moved_out_on: null })).toBe("none");
  });

  it("checks an ID number's birth date and check digit as the API does", () => {
    expect(validIdNumber("510104199001011230")).toBe(true);
    expect(validIdNumber("11010519491231002x")).toBe(true);
    expect(validIdNumber("510104199001011231")).toBe(false);
    expect(validIdNumber("510104199002301234")).toBe(false);
    expect(validIdNumber("5101041990010112")).toBe(false);
  });

  it("checks a mainland mobile number", () => {
    expect(validPhone("+86 139-1234-5678")).toBe(true);
    expect(validPhone("12345678901")).toBe(false);
    expect(validPhone("1391234567")).toBe(false);
  });

  it("checks a new registration whole and an edit only in what it changes", () => {
    expect(checkPerson(form, true)).toEqual({});
    expect(checkPerson({ ...form, name: " ", phone: "110", id_number: "1" }, true)).toEqual({
      name: "residents.check.required",
      phone: "residents.check.phone",
      id_number: "residents.check.idNumber",
    });
    expect(checkPerson({ ...form, phone: "", id_number: "" }, false)).toEqual({});
    expect(checkPerson({ ...form, category: "tenant", relation: "owner" }, true)).toEqual({
      relation: "residents.check.ownerTenant",
    });
  });

  it("wants a purpose of four characters and a move-out not before the move-in", () => {
    expect(checkPurpose("  核对 ")).toEqual({ purpose: "residents.check.purpose" });
    expect(checkPurpose("核对身份信息")).toEqual({});
    expect(checkMoveOut("2026-11-01", "2026-01-01")).toEqual({});
    expect(checkMoveOut("2025-11-01", "2026-01-01")).toEqual({ on: "residents.check.beforeMoveIn" });
    expect(checkMoveOut("", null)).toEqual({ on: "residents.check.date" });
  });

  it("writes today as a date field's value", () => {
    expect(today(new Date(2026, 0, 5, 23, 0))).toBe("2026-01-05");
  });
});
