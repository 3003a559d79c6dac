import { describe, expect, it } from "vitest";
import { joinErrors, normalizePhone, placeOf, validPhone, waitLeft, type JoinForm } from "@/joining";

const good: JoinForm = {
  unitId: "u1",
  room: "0301",
  name: "王小明",
  phone: "139 1234 5678",
  code: "123456",
  username: "wang.xm",
  password: "Join-Us-2026!x",
};

describe("the join form", () => {
  it("may be sent when every field is filled as the API wants it", () => {
    expect(joinErrors(good)).toEqual({});
  });

  it("names each field that is wrong", () => {
    const errors = joinErrors({ unitId: "", room: " ", name: "", phone: "12345", code: "12a456", username: "a b", password: "" });
    expect(Object.keys(errors).sort()).toEqual(["code", "name", "password", "phone", "room", "unitId", "username"]);
    expect(errors.phone).toBe("errors.invalid_phone");
  });

  it("reads a phone as the API does", () => {
    expect(normalizePhone("+86 139-1234-5678")).toBe("13912345678");
    expect(validPhone("+8613912345678")).toBe(true);
    expect(validPhone("12912345678")).toBe(false);
  });
});

describe("the manager's queue", () => {
  it("labels the place as building, unit and room", () => {
    const words = { building: "{n}栋", unit: "{n}单元" };
    expect(placeOf({ building_number: "1", unit_number: "2", room: "0301" }, words)).toBe("1栋 · 2单元 · 0301");
  });
});

describe("the send-code button", () => {
  it("counts down a minute after a code was sent, then may be pressed again", () => {
    expect(waitLeft(null, 1000)).toBe(0);
    expect(waitLeft(0, 1000)).toBe(59);
    expect(waitLeft(0, 60_000)).toBe(0);
    expect(waitLeft(0, 90_000)).toBe(0);
    expect(waitLeft(5000, 4000)).toBe(60); // the clock read before the code was sent
  });
});
