import { describe, expect, it } from "vitest";
import { codeFromRecords, codeFromUrl } from "@/nfc";

const bytes = (s: string) => new DataView(new TextEncoder().encode(s).buffer);

describe("a checkpoint's NFC tag", () => {
  it("carries the code in a text record, as the QR label does", () => {
    expect(codeFromRecords([{ recordType: "text", encoding: "utf-8", data: bytes("  Qm9vbXM3x  ") }])).toBe("Qm9vbXM3x");
  });

  it("decodes a UTF-16 text record by its encoding", () => {
    const utf16 = new Uint8Array([0x61, 0, 0x62, 0, 0x31, 0]);
    expect(codeFromRecords([{ recordType: "text", encoding: "utf-16le", data: new DataView(utf16.buffer) }])).toBe("ab1");
  });

  it("carries it in a URL record's code parameter, else its last path segment", () => {
    expect(codeFromRecords([{ recordType: "url", data: bytes("https://anju.example/patrol?code=abc123") }])).toBe("abc123");
    expect(codeFromRecords([{ recordType: "absolute-url", data: bytes("https://anju.example/p/xyz%2D9/") }])).toBe("xyz-9");
    expect(codeFromUrl("not a url")).toBeNull();
    expect(codeFromUrl("https://anju.example/")).toBeNull();
  });

  it("skips records that carry no code and takes the first that does", () => {
    expect(
      codeFromRecords([
        { recordType: "mime", data: bytes("ignored") },
        { recordType: "text", data: bytes("   ") },
        { recordType: "text", data: null },
        { recordType: "text", encoding: "utf-8", data: new DataView(new Uint8Array([0xff, 0xfe, 0xfd]).buffer) },
        { recordType: "url", data: bytes("https://anju.example/patrol?code=second") },
        { recordType: "text", data: bytes("third") },
      ]),
    ).toBe("second");
  });

  it("refuses a blank tag and a code longer than a checkpoint's", () => {
    expect(codeFromRecords([])).toBeNull();
    expect(codeFromRecords([{ recordType: "text", data: bytes("x".repeat(129)) }])).toBeNull();
  });
});
