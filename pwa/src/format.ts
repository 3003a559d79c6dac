/** A timestamp as people of `locale` read it, e.g. 2026/11/25 16:32 or Nov 25, 2026, 4:32 PM. */
export function formatDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}
