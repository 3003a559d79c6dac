import { describe, expect, it } from "vitest";
import { ApiError } from "@/api/client";
import { fieldErrorOf } from "@/errors";

describe("fieldErrorOf", () => {
  const FIELDS = { invalid_phone: "phone", invalid_window: "until" } as const;

  it("puts a refusal the form knows on its field, as that code's message", () => {
    expect(fieldErrorOf(new ApiError(422, "invalid_phone", "bad phone"), FIELDS)).toEqual({ phone: "errors.invalid_phone" });
    expect(fieldErrorOf(new ApiError(422, "invalid_window", ""), FIELDS)).toEqual({ until: "errors.invalid_window" });
  });

  it("leaves other refusals, inherited names and failures that are not the server's to the toast", () => {
    expect(fieldErrorOf(new ApiError(409, "conflict", ""), FIELDS)).toBeNull();
    expect(fieldErrorOf(new ApiError(422, "toString", ""), FIELDS)).toBeNull();
    expect(fieldErrorOf(new TypeError("Failed to fetch"), FIELDS)).toBeNull();
  });
});
