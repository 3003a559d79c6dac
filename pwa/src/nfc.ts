import { readCode } from "@/patrol";

/**
 * Web NFC (Chrome on Android): a checkpoint's NFC tag carries its code as the QR label does, in an
 * NDEF text record (the code itself) or a URL record (`…?code=<code>`, else the last path segment:
 * a tag written with the label's address). Only the shape of a record the reader hands us is used,
 * so the rules are pure and tested without a tag.
 */
export interface NdefRecordLike {
  recordType: string;
  encoding?: string | null;
  data?: DataView | null;
}

function text(record: NdefRecordLike): string | null {
  if (!record.data) return null;
  try {
    return new TextDecoder(record.encoding || "utf-8", { fatal: true }).decode(record.data);
  } catch {
    return null; // an encoding the browser does not know, or bytes that are not text in it
  }
}

/** The code a URL carries: its `code` parameter, else its last path segment. */
export function codeFromUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  const param = url.searchParams.get("code");
  if (param) return readCode(param);
  const last = url.pathname.split("/").filter(Boolean).pop();
  return last ? readCode(decodeURIComponent(last)) : null;
}

/** The checkpoint code of a tag's records: the first text or URL record that carries one. */
export function codeFromRecords(records: readonly NdefRecordLike[]): string | null {
  for (const record of records) {
    const body = record.recordType === "text" || record.recordType.endsWith("url") ? text(record) : null;
    if (body === null) continue;
    const code = record.recordType === "text" ? readCode(body) : codeFromUrl(body);
    if (code) return code;
  }
  return null;
}
