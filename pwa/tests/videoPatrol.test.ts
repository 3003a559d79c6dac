import { describe, expect, it } from "vitest";
import type { TourRun } from "@/api/types";
import { checkBody, currentRun, dwellLeft, emptyTour, qualityFlags, reportProblem, runProgress, tourBody, tourProblems } from "@/videoPatrol";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const MIN = 60_000;

function run(status: TourRun["status"], startsIn: number, checked = 0): TourRun {
  const starts = NOW + startsIn * MIN;
  return {
    id: `${status}-${startsIn}`,
    community_id: "c",
    tour_id: "t",
    tour_name: "监控室巡查",
    dwell_seconds: 20,
    starts_at: new Date(starts).toISOString(),
    due_at: new Date(starts + 15 * MIN).toISOString(),
    started_at: null,
    ended_at: null,
    status,
    guard_id: null,
    cameras: ["a", "b"].map((id, i) => ({
      id,
      name: id,
      result: i < checked ? "normal" : null,
      problem: null,
      note: "",
      checked_at: null,
      alarm_id: null,
    })),
    next_camera_id: checked < 2 ? (["a", "b"][checked] ?? null) : null,
    alarm_id: null,
  };
}

describe("the run to do", () => {
  it("is the earliest due, else the next upcoming, never a done or missed one", () => {
    expect(currentRun([run("upcoming", 60), run("due", -5), run("due", -1)])?.id).toBe("due--5");
    expect(currentRun([run("done", -60), run("upcoming", 120), run("upcoming", 60)])?.id).toBe("upcoming-60");
    expect(currentRun([run("missed", -60), run("done", -30)])).toBeNull();
  });

  it("counts the cameras checked", () => {
    expect(runProgress(run("due", 0, 1))).toEqual({ done: 1, total: 2 });
  });
});

describe("a camera's dwell time", () => {
  it("counts down in whole seconds and stops at zero", () => {
    expect(dwellLeft(NOW, 20, NOW)).toBe(20);
    expect(dwellLeft(NOW, 20, NOW + 19_500)).toBe(1);
    expect(dwellLeft(NOW, 20, NOW + 60_000)).toBe(0);
  });
});

describe("a check", () => {
  it("is normal without a problem, or a problem with its kind and trimmed note", () => {
    expect(checkBody("a", null, "ignored")).toEqual({ camera_id: "a", result: "normal", note: "" });
    expect(checkBody("a", "unclear", " 起雾 ")).toEqual({ camera_id: "a", result: "problem", problem: "unclear", note: "起雾" });
  });

  it("takes the live view's snapshot with a problem and with a normal camera (its picture is measured)", () => {
    expect(checkBody("a", "unclear", "", "/9j/AA==")).toEqual({
      camera_id: "a",
      result: "problem",
      problem: "unclear",
      note: "",
      snapshot: { content_type: "image/jpeg", data: "/9j/AA==" },
    });
    expect(checkBody("a", null, "", "/9j/AA==")).toEqual({
      camera_id: "a",
      result: "normal",
      note: "",
      snapshot: { content_type: "image/jpeg", data: "/9j/AA==" },
    });
    expect(checkBody("a", null, "", null)).toEqual({ camera_id: "a", result: "normal", note: "" });
  });

  it("lists what the picture check found", () => {
    const [first] = run("done", -10, 1).cameras;
    const stop = { ...first!, quality: { luminance: 12, contrast: 3, entropy: 1, sharpness: 2, change: null, flags: ["dark" as const] } };
    expect(qualityFlags(stop)).toEqual(["dark"]);
    expect(qualityFlags({ ...stop, quality: null })).toEqual([]);
  });

  it("needs a kind of problem, and a note when it is another problem", () => {
    expect(reportProblem(null, "")).toBe("videoPatrol.problems.kind");
    expect(reportProblem("other", "  ")).toBe("videoPatrol.problems.note");
    expect(reportProblem("other", "有人翻墙")).toBeNull();
    expect(reportProblem("no_image", "")).toBeNull();
  });
});

describe("a tour form", () => {
  it("is fine as it starts once named and given cameras", () => {
    expect(tourProblems({ ...emptyTour(), name: "夜巡", cameras: ["a"] })).toEqual({});
  });

  it("says what is wrong", () => {
    const problems = tourProblems({ ...emptyTour(), dwellSeconds: 2, nightStarts: "06:00", runMinutes: 200 });
    expect(Object.keys(problems).sort()).toEqual(["cameras", "dwell", "fit", "name", "times"]);
  });

  it("becomes the API's body with times in seconds", () => {
    const body = tourBody({ ...emptyTour(), name: " 夜巡 ", cameras: ["a", "b"] }, "c");
    expect(body).toMatchObject({ community_id: "c", name: "夜巡", cameras: ["a", "b"], day_starts: "06:00:00", night_starts: "20:00:00" });
  });
});
