import type { paths } from "@/api/schema";
import { ApiError } from "@/api/client";
import { describeError } from "@/errors";
import { i18n } from "@/i18n";

/** The JSON body of a response object from the generated schema. */
type Json<R> = R extends { content: { "application/json": infer Body } } ? Body : never;

export type CameraPage = Json<paths["/api/v1/cameras"]["get"]["responses"][200]>;
export type Camera = CameraPage["items"][number];
export type LiveAnswer = Json<paths["/api/v1/cameras/{camera_id}/live"]["post"]["responses"][200]>;

/** How many cameras one phone shows at once (each is its own stream). */
export const MAX_VIEWS = 4;

/** The cameras of a `?ids=a,b` query: unique, at most MAX_VIEWS. */
export function parseIds(value: unknown): string[] {
  const text = Array.isArray(value) ? value.join(",") : typeof value === "string" ? value : "";
  return [...new Set(text.split(",").map((id) => id.trim()).filter(Boolean))].slice(0, MAX_VIEWS);
}

/** Add or remove a camera from a multi-view selection, keeping at most MAX_VIEWS. */
export function toggleSelection(selected: readonly string[], id: string): string[] {
  if (selected.includes(id)) return selected.filter((value) => value !== id);
  return selected.length >= MAX_VIEWS ? [...selected] : [...selected, id];
}

/** Why a live view failed, in the user's language (video's own codes first). */
export function videoError(err: unknown): string {
  const { t, te } = i18n.global;
  if (err instanceof ApiError && te(`video.errors.${err.code}`)) return t(`video.errors.${err.code}`);
  return describeError(err);
}
