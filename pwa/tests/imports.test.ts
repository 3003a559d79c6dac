import { describe, expect, it } from "vitest";
import { canRun, checkImportFile, importUpdate, MAX_IMPORT_BYTES, problemRows, progressPercent } from "@/imports";

describe("checkImportFile", () => {
  it("takes a CSV or XLSX within the limit", () => {
    expect(checkImportFile({ name: "住户.CSV", size: 10 })).toBeNull();
    expect(checkImportFile({ name: "a.xlsx", size: MAX_IMPORT_BYTES })).toBeNull();
  });
  it("says why another file is refused", () => {
    expect(checkImportFile(null)).toBe("imports.check.pick");
    expect(checkImportFile({ name: "a.xls", size: 10 })).toBe("errors.not_a_sheet");
    expect(checkImportFile({ name: "a.csv", size: 0 })).toBe("errors.empty_sheet");
    expect(checkImportFile({ name: "a.csv", size: MAX_IMPORT_BYTES + 1 })).toBe("errors.file_too_large");
  });
});

describe("problemRows", () => {
  it("groups the problems by row, in file order", () => {
    expect(
      problemRows([
        { row: 8, field: "building", code: "unknown_building" },
        { row: 3, field: "phone", code: "invalid_phone" },
        { row: 8, field: "id_number", code: "duplicate_id_number" },
      ]),
    ).toEqual([
      { row: 3, problems: [{ field: "phone", code: "invalid_phone" }] },
      {
        row: 8,
        problems: [
          { field: "building", code: "unknown_building" },
          { field: "id_number", code: "duplicate_id_number" },
        ],
      },
    ]);
  });
});

describe("progressPercent", () => {
  it("counts whole percents and stays within 0–100", () => {
    expect(progressPercent(0, 5000)).toBe(0);
    expect(progressPercent(1000, 4999)).toBe(20);
    expect(progressPercent(4999, 4999)).toBe(100);
    expect(progressPercent(6000, 5000)).toBe(100);
    expect(progressPercent(0, 0)).toBe(100);
  });
});

describe("importUpdate", () => {
  it("reads the progress and the end of this import only", () => {
    expect(importUpdate({ type: "person_import.progress", import_id: "a", done: 1, total: 2 }, "a")).toEqual({
      done: 1,
      total: 2,
    });
    expect(importUpdate({ type: "person_import.finished", import_id: "a", status: "done" }, "a")).toEqual({
      finished: "done",
    });
    expect(importUpdate({ type: "person_import.progress", import_id: "b", done: 1, total: 2 }, "a")).toBeNull();
    expect(importUpdate({ type: "alarm.raised", import_id: "a" }, "a")).toBeNull();
  });
});

describe("canRun", () => {
  it("runs a checked, rejected or failed import, never a queued or done one", () => {
    expect(["checked", "rejected", "failed"].every(canRun)).toBe(true);
    expect(["queued", "running", "done"].some(canRun)).toBe(false);
  });
});
