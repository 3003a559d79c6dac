/**
 * The bulk import of residents (docs/people.md): the checks made on a file before it is sent, the
 * dry run's problems grouped by row, and the progress of a run from the socket's events.
 */

/** The server refuses larger files (`file_too_large`); the same limit here saves the upload. */
export const MAX_IMPORT_BYTES = 4_000_000;

/** What is wrong with a picked file, as an i18n key, or null: CSV or XLSX, not empty, not too large. */
export function checkImportFile(file: { name: string; size: number } | null): string | null {
  if (!file) return "imports.check.pick";
  if (!/\.(csv|xlsx)$/i.test(file.name)) return "errors.not_a_sheet";
  if (file.size === 0) return "errors.empty_sheet";
  if (file.size > MAX_IMPORT_BYTES) return "errors.file_too_large";
  return null;
}

export interface RowProblem {
  row: number;
  field: string;
  code: string;
}

export interface ProblemRow {
  row: number;
  problems: { field: string; code: string }[];
}

/** The dry run's problems as one line per file row, in file order. */
export function problemRows(problems: readonly RowProblem[]): ProblemRow[] {
  const rows = new Map<number, ProblemRow>();
  for (const { row, field, code } of problems) {
    const line = rows.get(row) ?? { row, problems: [] };
    line.problems.push({ field, code });
    rows.set(row, line);
  }
  return [...rows.values()].sort((a, b) => a.row - b.row);
}

/** Whole percent of a run: 0 before the first chunk, 100 once every row is written. */
export function progressPercent(done: number, total: number): number {
  if (total <= 0) return done >= total ? 100 : 0;
  return Math.min(100, Math.max(0, Math.floor((done * 100) / total)));
}

export interface ImportEvent {
  type: string;
  import_id?: unknown;
  done?: unknown;
  total?: unknown;
  status?: unknown;
}

/** What an event of the live channel says of this import: progress, the end, or nothing. */
export function importUpdate(
  event: ImportEvent,
  importId: string,
): { done: number; total: number } | { finished: string } | null {
  if (event.import_id !== importId) return null;
  if (event.type === "person_import.progress" && typeof event.done === "number" && typeof event.total === "number") {
    return { done: event.done, total: event.total };
  }
  if (event.type === "person_import.finished" && typeof event.status === "string") return { finished: event.status };
  return null;
}

/** A run may be asked of a checked import, or again after a rejected or failed run. */
export function canRun(status: string): boolean {
  return status === "checked" || status === "rejected" || status === "failed";
}
