import { afterEach, describe, expect, it, vi } from "vitest";
import { setLocale } from "@/i18n";
import {
  absoluteLink,
  bookingBody,
  emptyBooking,
  emptyWalkIn,
  formatWindow,
  idNumberValid,
  isConsentRequested,
  isVisitorArrived,
  MAX_ENTRIES,
  parseLocal,
  passIsLive,
  passStatusLabel,
  passStatusTone,
  residentIdValid,
  shareLink,
  toLocalInput,
  validateBooking,
  validateVisitor,
  validateWalkIn,
  walkInBody,
  type BookingForm,
} from "@/visitors";

const NOW = new Date(2026, 10, 25, 14, 7, 30).getTime(); // 25 Nov 2026 14:07:30, this machine's zone
const HOUR = 3_600_000;

function booking(changes: Partial<BookingForm> = {}): BookingForm {
  return { ...emptyBooking(NOW), name: "王小明", phone: "138 1234 5678", ...changes };
}

afterEach(() => {
  setLocale("zh-CN", { persist: false });
  vi.unstubAllGlobals();
});

describe("emptyBooking", () => {
  it("starts now (to the minute) for four hours, one entry, every door", () => {
    const form = emptyBooking(NOW);
    expect(form.from).toBe("2026-11-25T14:07");
    expect(form.until).toBe("2026-11-25T18:07");
    expect(form.entries).toBe(1);
    expect(form.points).toEqual([]);
    expect(form.buildings).toEqual([]);
    expect(form.phoneKey).toBe(false);
  });

  it("round-trips datetime-local text", () => {
    expect(toLocalInput(parseLocal("2026-12-31T23:59"))).toBe("2026-12-31T23:59");
    expect(parseLocal("")).toBeNaN();
    expect(parseLocal("tomorrow")).toBeNaN();
  });
});

describe("validateVisitor", () => {
  it("asks for a name of at most 40 characters and a mobile number, and checks a plate only if given", () => {
    expect(validateVisitor({ name: "王小明", phone: "138 1234 5678", plate: "" })).toEqual({});
    expect(validateVisitor({ name: " ", phone: "", plate: "" })).toEqual({
      name: "visitors.errors.nameRequired",
      phone: "visitors.errors.phoneRequired",
    });
    expect(validateVisitor({ name: "名".repeat(41), phone: "028-8888888", plate: "ABC" })).toEqual({
      name: "visitors.errors.nameTooLong",
      phone: "visitors.errors.phoneInvalid",
      plate: "visitors.errors.plateInvalid",
    });
  });

  it("holds the same for a booking and a walk-in", () => {
    const visitor = { name: "", phone: "12345678901", plate: "ABC" };
    const expected = validateVisitor(visitor);
    expect(validateBooking(booking(visitor), NOW)).toMatchObject(expected);
    expect(validateWalkIn({ ...emptyWalkIn(), ...visitor })).toMatchObject(expected);
  });
});

describe("validateBooking", () => {
  it("accepts a complete booking", () => {
    expect(validateBooking(booking(), NOW)).toEqual({});
  });

  it("asks for a name and a mobile number", () => {
    const errors = validateBooking(booking({ name: "  ", phone: "" }), NOW);
    expect(errors.name).toBe("visitors.errors.nameRequired");
    expect(errors.phone).toBe("visitors.errors.phoneRequired");
  });

  it("refuses numbers that are not mobiles, accepts international ones", () => {
    expect(validateBooking(booking({ phone: "12345678901" }), NOW).phone).toBe("visitors.errors.phoneInvalid");
    expect(validateBooking(booking({ phone: "028-8888888" }), NOW).phone).toBe("visitors.errors.phoneInvalid");
    expect(validateBooking(booking({ phone: "+44 7700 900123" }), NOW).phone).toBeUndefined();
  });

  it("wants the window to run forwards, end in the future and last at most a week", () => {
    const at = (ms: number) => toLocalInput(ms);
    expect(validateBooking(booking({ until: at(NOW - HOUR) }), NOW).until).toBe("visitors.errors.untilBeforeFrom");
    expect(validateBooking(booking({ from: at(NOW - 3 * HOUR), until: at(NOW - HOUR) }), NOW)).toMatchObject({
      from: "visitors.errors.fromPast",
      until: "visitors.errors.untilPast",
    });
    expect(validateBooking(booking({ until: at(NOW + 8 * 24 * HOUR) }), NOW).until).toBe("visitors.errors.tooLong");
    expect(validateBooking(booking({ until: "" }), NOW).until).toBe("visitors.errors.untilRequired");
    // A form filled in slowly may start a few minutes ago.
    expect(validateBooking(booking({ from: at(NOW - 5 * 60_000) }), NOW)).toEqual({});
  });

  it("allows 1 to MAX_ENTRIES whole entries", () => {
    for (const entries of [0, MAX_ENTRIES + 1, 1.5]) {
      expect(validateBooking(booking({ entries }), NOW).entries, String(entries)).toBe("visitors.errors.entries");
    }
    expect(validateBooking(booking({ entries: MAX_ENTRIES }), NOW)).toEqual({});
  });

  it("checks an optional plate the way the server does", () => {
    expect(validateBooking(booking({ plate: "川a·12345" }), NOW).plate).toBeUndefined();
    expect(validateBooking(booking({ plate: "川AD12345" }), NOW).plate).toBeUndefined(); // new energy
    expect(validateBooking(booking({ plate: "ABC123" }), NOW).plate).toBe("visitors.errors.plateInvalid");
    expect(validateBooking(booking({ plate: "川AO1234" }), NOW).plate).toBe("visitors.errors.plateInvalid");
  });
});

describe("bookingBody", () => {
  it("sends clean values, zoned times, and leaves out what was not chosen", () => {
    const body = bookingBody(booking({ purpose: " 探亲 ", plate: "川a 12345" }), "h-1");
    expect(body).toEqual({
      household_id: "h-1",
      visitor_name: "王小明",
      visitor_phone: "13812345678",
      purpose: "探亲",
      valid_from: new Date(2026, 10, 25, 14, 7).toISOString(),
      valid_until: new Date(2026, 10, 25, 18, 7).toISOString(),
      entries: 1,
      plate: "川A12345",
      phone_key_allowed: false,
    });
    const chosen = bookingBody(booking({ points: ["g1"], buildings: ["b1"] }));
    expect(chosen).toMatchObject({ points: ["g1"], buildings: ["b1"] });
    expect(chosen).not.toHaveProperty("household_id");
    expect(chosen.purpose).toBe("");
    expect(bookingBody(booking({ phoneKey: true }))).toMatchObject({ phone_key_allowed: true });
  });
});

describe("pass status", () => {
  it("names every status the server gives, and shows an unknown one as it is", () => {
    expect(
      ["active", "pending_consent", "used_up", "expired", "revoked", "declined"].map(passStatusLabel),
    ).toEqual(["有效", "待住户确认", "已用完", "已过期", "已撤销", "已拒绝"]);
    expect(passStatusLabel("lost")).toBe("lost");
    setLocale("en", { persist: false });
    expect(passStatusLabel("used_up")).toBe("Used up");
  });

  it("colours live passes green, waiting ones orange, ended ones grey or red", () => {
    expect(passStatusTone("active")).toBe("success");
    expect(passStatusTone("pending_consent")).toBe("warning");
    expect(passStatusTone("revoked")).toBe("danger");
    expect(passStatusTone("expired")).toBe("default");
    expect(["active", "pending_consent", "used_up", "expired", "revoked"].filter(passIsLive)).toEqual([
      "active",
      "pending_consent",
    ]);
  });
});

describe("sharing the pass link", () => {
  it("makes a path absolute on this origin and leaves a full link alone", () => {
    expect(absoluteLink("/pass/abc", "https://anju.example")).toBe("https://anju.example/pass/abc");
    expect(absoluteLink("https://x.example/pass/abc", "https://anju.example")).toBe("https://x.example/pass/abc");
  });

  it("uses the phone's share sheet when there is one", async () => {
    const share = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, share });
    expect(await shareLink("https://a/pass/t", "访客通行证", "hi")).toBe("shared");
    expect(share).toHaveBeenCalledWith({ title: "访客通行证", text: "hi", url: "https://a/pass/t" });
  });

  it("takes a closed share sheet as the user's choice", async () => {
    const share = vi.fn().mockRejectedValue(new DOMException("closed", "AbortError"));
    vi.stubGlobal("navigator", { ...navigator, share });
    expect(await shareLink("https://a/pass/t", "t", "x")).toBe("cancelled");
  });

  it("copies the link where the phone cannot share", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    vi.stubGlobal("navigator", { ...navigator, share: undefined, clipboard: { writeText } });
    vi.stubGlobal("isSecureContext", true);
    expect(await shareLink("https://a/pass/t", "t", "x")).toBe("copied");
    expect(writeText).toHaveBeenCalledWith("https://a/pass/t");
  });
});

describe("live visitor events", () => {
  it("know an arrival and a consent request by their type and pass", () => {
    expect(isVisitorArrived({ type: "visitor.arrived", pass_id: "p" } as never)).toBe(true);
    expect(isVisitorArrived({ type: "visitor.arrived" })).toBe(false);
    expect(isConsentRequested({ type: "visitor.consent_requested", pass_id: "p" } as never)).toBe(true);
    expect(isConsentRequested({ type: "visitor.arrived", pass_id: "p" } as never)).toBe(false);
  });
});

describe("walk-in registration", () => {
  const valid = {
    ...emptyWalkIn(),
    name: "李四",
    phone: "13912345678",
    idNumber: "11010519491231002X",
    householdId: "h-1",
    purpose: "探亲",
  };

  it("checks a resident ID number's check character", () => {
    expect(residentIdValid("11010519491231002X")).toBe(true);
    expect(residentIdValid("110105194912310021")).toBe(false);
    expect(residentIdValid("11010519491231002")).toBe(false);
    expect(idNumberValid("resident_id", "11010519491231002x")).toBe(true);
  });

  it("checks the other documents by their pattern", () => {
    expect(idNumberValid("passport", "E12345678")).toBe(true);
    expect(idNumberValid("hk_macao_permit", "H12345678")).toBe(true);
    expect(idNumberValid("hk_macao_permit", "X12345678")).toBe(false);
    expect(idNumberValid("taiwan_permit", "12345678")).toBe(true);
  });

  it("accepts a checked visitor and names every missing field", () => {
    expect(validateWalkIn(valid)).toEqual({});
    expect(validateWalkIn(emptyWalkIn())).toEqual({
      name: "visitors.errors.nameRequired",
      phone: "visitors.errors.phoneRequired",
      idNumber: "desk.errors.idRequired",
      householdId: "desk.errors.householdRequired",
      purpose: "desk.errors.purposeRequired",
    });
    expect(validateWalkIn({ ...valid, idNumber: "110105194912310021" }).idNumber).toBe("desk.errors.idInvalid");
  });

  it("sends the number in upper case without spaces", () => {
    expect(walkInBody({ ...valid, idNumber: "110105 19491231002x" })).toEqual({
      visitor_name: "李四",
      visitor_phone: "13912345678",
      id_type: "resident_id",
      id_number: "11010519491231002X",
      household_id: "h-1",
      purpose: "探亲",
      entries: 1,
    });
  });
});

describe("formatWindow", () => {
  it("names the day once for a visit within a day", () => {
    const from = new Date(2026, 10, 25, 14, 7).toISOString();
    const until = new Date(2026, 10, 25, 18, 30).toISOString();
    expect(formatWindow(from, until, "zh-CN")).toBe("11月25日 14:07 – 18:30");
  });

  it("names both days for a visit over several", () => {
    const from = new Date(2026, 10, 25, 9, 0).toISOString();
    const until = new Date(2026, 10, 27, 9, 0).toISOString();
    expect(formatWindow(from, until, "zh-CN")).toBe("11月25日 09:00 – 11月27日 09:00");
  });
});
