import { describe, expect, it } from "vitest";
import { base64Bytes, dataUrlBase64, fitWithin, MAX_SIDE } from "@/images";

describe("fitWithin", () => {
  it("scales a phone photo down to 1280 px on its long side, keeping its shape", () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: 1280, height: 960 });
    expect(fitWithin(3024, 4032)).toEqual({ width: 960, height: 1280 });
    expect(fitWithin(4000, 1000)).toEqual({ width: 1280, height: 320 });
    expect(MAX_SIDE).toBe(1280);
  });

  it("never scales up", () => {
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 });
    expect(fitWithin(1280, 1280)).toEqual({ width: 1280, height: 1280 });
  });

  it("rounds, keeps at least a pixel, and gives nothing for nothing", () => {
    expect(fitWithin(1281, 3)).toEqual({ width: 1280, height: 3 });
    expect(fitWithin(100_000, 10)).toEqual({ width: 1280, height: 1 });
    expect(fitWithin(0, 100)).toEqual({ width: 0, height: 0 });
    expect(fitWithin(Number.NaN, 100)).toEqual({ width: 0, height: 0 });
    expect(fitWithin(2000, 1000, 500)).toEqual({ width: 500, height: 250 });
  });
});

describe("base64", () => {
  it("counts the bytes it decodes to", () => {
    expect(base64Bytes(btoa("abc"))).toBe(3);
    expect(base64Bytes(btoa("abcd"))).toBe(4);
    expect(base64Bytes(btoa("abcde"))).toBe(5);
    expect(base64Bytes("")).toBe(0);
  });

  it("takes the data out of a data URL", () => {
    expect(dataUrlBase64("data:image/jpeg;base64,/9j/4AAQ")).toBe("/9j/4AAQ");
    expect(dataUrlBase64("nonsense")).toBe("");
  });
});
