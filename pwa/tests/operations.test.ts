import { describe, expect, it } from "vitest";
import {
  attachable,
  blankDetails,
  fromForm,
  missingAtFiling,
  missingFor,
  needs,
  stateTone,
  toForm,
} from "@/operations";

describe("O&M record forms", () => {
  it("names the fields each move needs, as the API's catalogue does", () => {
    expect(needs("incident", "resolved")).toEqual(["resolution"]);
    expect(needs("incident", "closed")).toEqual(["evaluation", "summary"]);
    expect(needs("change", "implemented")).toEqual(["outcome", "implementation"]);
    expect(needs("defect", "fixing")).toEqual([]);
  });

  it("finds what a move still lacks, ignoring blanks", () => {
    const form = { ...blankDetails("problem"), root_cause: "PoE 过热", workaround: "  " };
    expect(missingFor("problem", "known_error", form)).toEqual(["workaround"]);
    expect(missingFor("problem", "investigating", form)).toEqual([]);
  });

  it("needs scope and rollback plan to file a change, nothing to file an incident", () => {
    expect(missingAtFiling("change", blankDetails("change"))).toEqual(["scope", "rollback_plan"]);
    expect(missingAtFiling("incident", blankDetails("incident"))).toEqual([]);
  });

  it("starts a change at low risk and round-trips the details with the kind's tag", () => {
    expect(blankDetails("change")).toMatchObject({ risk: "low", outcome: "" });
    const form = toForm("release", { kind: "release", version: " 3.2 ", plan: "分批", planned_at: "2026-12-01T00:00:00Z", extra: 1 });
    expect(form).toEqual({ version: " 3.2 ", plan: "分批", result: "", analysis: "" });
    expect(fromForm("release", form, { planned_at: "2026-12-01T00:00:00Z" })).toEqual({
      kind: "release",
      version: "3.2",
      plan: "分批",
      result: "",
      analysis: "",
      planned_at: "2026-12-01T00:00:00Z",
    });
  });

  it("tones final states done, a rejection danger, opening states warning", () => {
    expect(stateTone("verified")).toBe("success");
    expect(stateTone("rejected")).toBe("danger");
    expect(stateTone("requested")).toBe("warning");
    expect(stateTone("investigating")).toBe("primary");
  });

  it("attaches photos and PDFs up to 700 kB", () => {
    expect(attachable("application/pdf", 700_000)).toBe("ok");
    expect(attachable("image/jpeg", 700_001)).toBe("size");
    expect(attachable("application/zip", 10)).toBe("type");
  });
});
