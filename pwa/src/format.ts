/** A timestamp as people of `locale` read it, e.g. 2026年11月25日 16:32:05 or Nov 25, 2026, 4:32:05 PM. */
export function formatDateTime(iso: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}
