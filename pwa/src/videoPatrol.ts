import type { CameraTourCreate, TourCheckCreate, TourRun } from "@/api/types";

/** Video patrol rules (docs/patrol.md, "Video patrol"): pure, unit-tested in tests/videoPatrol.test.ts. */

export type Problem = NonNullable<TourCheckCreate["problem"]>;
export const PROBLEMS: readonly Problem[] = ["unclear", "no_image", "other"];

/** The run to do now: the earliest due, else the next upcoming; null when none is left. */
export function currentRun(runs: readonly TourRun[]): TourRun | null {
  const by = (status: TourRun["status"]) =>
    runs.filter((r) => r.status === status).sort((a, b) => a.starts_at.localeCompare(b.starts_at))[0];
  return by("due") ?? by("upcoming") ?? null;
}

/** Cameras checked of a run. */
export function runProgress(run: TourRun): { done: number; total: number } {
  return { done: run.cameras.filter((c) => c.result !== null).length, total: run.cameras.length };
}

/** Whole seconds a camera still has of its dwell time, from when it was shown (never below 0). */
export function dwellLeft(shownAt: number, dwellSeconds: number, now: number): number {
  return Math.max(0, Math.ceil((shownAt + dwellSeconds * 1000 - now) / 1000));
}

/** What is wrong with a problem report before it is sent (an i18n key), or null. */
export function reportProblem(problem: Problem | null, note: string): string | null {
  if (!problem) return "videoPatrol.problems.kind";
  if (problem === "other" && !note.trim()) return "videoPatrol.problems.note";
  return null;
}

/** The body of a check: normal, or a problem with its kind and note; either with the live view's
 * snapshot, whose picture quality the platform measures. */
export function checkBody(cameraId: string, problem: Problem | null, note: string, snapshot: string | null = null): TourCheckCreate {
  const body: TourCheckCreate =
    problem === null ? { camera_id: cameraId, result: "normal", note: "" } : { camera_id: cameraId, result: "problem", problem, note: note.trim() };
  return snapshot ? { ...body, snapshot: { content_type: "image/jpeg", data: snapshot } } : body;
}

export type QualityFlag = NonNullable<TourRun["cameras"][number]["quality"]>["flags"][number];
export const QUALITY_FLAGS: readonly QualityFlag[] = ["dark", "bright", "covered", "blurred", "frozen"];

/** What the platform's picture check found wrong with a checked camera (empty: fine or not measured). */
export function qualityFlags(stop: TourRun["cameras"][number]): QualityFlag[] {
  return stop.quality?.flags ?? [];
}

export interface TourForm {
  name: string;
  cameras: string[];
  dwellSeconds: number;
  dayStarts: string;
  nightStarts: string;
  dayEvery: number;
  nightEvery: number;
  runMinutes: number;
}

export function emptyTour(): TourForm {
  return {
    name: "",
    cameras: [],
    dwellSeconds: 20,
    dayStarts: "06:00",
    nightStarts: "20:00",
    dayEvery: 240,
    nightEvery: 120,
    runMinutes: 15,
  };
}

type TourField = "name" | "cameras" | "dwell" | "times" | "fit";

/** What is wrong with a tour form, as i18n keys by field (`videoPatrol.problems.*`). */
export function tourProblems(form: TourForm): Partial<Record<TourField, string>> {
  const problems: Partial<Record<TourField, string>> = {};
  if (!form.name.trim()) problems.name = "videoPatrol.problems.name";
  if (!form.cameras.length) problems.cameras = "videoPatrol.problems.cameras";
  if (!(form.dwellSeconds >= 5 && form.dwellSeconds <= 600)) problems.dwell = "videoPatrol.problems.dwell";
  const clock = /^\d{2}:\d{2}$/;
  if (!clock.test(form.dayStarts) || !clock.test(form.nightStarts) || form.dayStarts === form.nightStarts) {
    problems.times = "videoPatrol.problems.times";
  }
  const every = Math.min(form.dayEvery, form.nightEvery);
  if (!(form.runMinutes >= 5) || !(every >= 10) || form.runMinutes > every) problems.fit = "videoPatrol.problems.fit";
  return problems;
}

/** The body of a new tour (times with seconds, as the API takes them). */
export function tourBody(form: TourForm, communityId: string): CameraTourCreate {
  return {
    community_id: communityId,
    name: form.name.trim(),
    cameras: form.cameras,
    dwell_seconds: form.dwellSeconds,
    day_starts: `${form.dayStarts}:00`,
    night_starts: `${form.nightStarts}:00`,
    day_every: form.dayEvery,
    night_every: form.nightEvery,
    run_minutes: form.runMinutes,
    active: true,
  };
}
