import { afterEach, describe, expect, it, vi } from "vitest";
import { effectScope } from "vue";
import { useNfcReader } from "@/composables/useNfcReader";

type Listener = (event: { message: { records: { recordType: string; data: DataView }[] } }) => void;

/** The browser's NDEFReader as the test drives it: `tap` is a tag held to the phone. */
class FakeReader {
  static last: FakeReader | null = null;
  listeners: Record<string, Listener[]> = {};
  signal: AbortSignal | null = null;

  constructor() {
    FakeReader.last = this;
  }

  addEventListener(type: string, listener: Listener): void {
    (this.listeners[type] ??= []).push(listener);
  }

  async scan(options: { signal: AbortSignal }): Promise<void> {
    this.signal = options.signal;
  }

  tap(text: string): void {
    const data = new DataView(new TextEncoder().encode(text).buffer);
    for (const listener of this.listeners.reading ?? []) listener({ message: { records: [{ recordType: "text", data }] } });
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  FakeReader.last = null;
});

describe("useNfcReader", () => {
  it("is not offered where the browser has no Web NFC", () => {
    const scope = effectScope();
    const nfc = scope.run(() => useNfcReader(vi.fn(), vi.fn()));
    expect(nfc?.supported).toBe(false);
    scope.stop();
  });

  it("hands a tapped tag's code on once, stops listening, and says when a tag has none", async () => {
    vi.stubGlobal("NDEFReader", FakeReader);
    const onCode = vi.fn();
    const onUnreadable = vi.fn();
    const scope = effectScope();
    const nfc = scope.run(() => useNfcReader(onCode, onUnreadable));
    if (!nfc) throw new Error("no reader");
    expect(nfc.supported).toBe(true);
    await nfc.start();
    expect(nfc.active.value).toBe(true);
    const reader = FakeReader.last;
    if (!reader) throw new Error("no NDEFReader was made");
    reader.tap("   ");
    expect(onUnreadable).toHaveBeenCalledOnce();
    expect(nfc.active.value).toBe(true);
    reader.tap("cp-code-1");
    expect(onCode).toHaveBeenCalledWith("cp-code-1");
    expect(nfc.active.value).toBe(false);
    expect(reader.signal?.aborted).toBe(true);
    scope.stop();
  });

  it("stops listening with the page", async () => {
    vi.stubGlobal("NDEFReader", FakeReader);
    const scope = effectScope();
    const nfc = scope.run(() => useNfcReader(vi.fn(), vi.fn()));
    await nfc?.start();
    scope.stop();
    expect(FakeReader.last?.signal?.aborted).toBe(true);
  });
});
