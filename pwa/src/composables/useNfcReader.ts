import { onScopeDispose, ref, type Ref } from "vue";
import { codeFromRecords, type NdefRecordLike } from "@/nfc";

/** The browser's NDEFReader (Chrome on Android), where it has one. */
interface NdefReader {
  scan(options: { signal: AbortSignal }): Promise<void>;
  addEventListener(type: "reading", listener: (event: { message: { records: NdefRecordLike[] } }) => void): void;
  addEventListener(type: "readingerror", listener: () => void): void;
}
type ReaderClass = new () => NdefReader;

function readerClass(): ReaderClass | null {
  const found = (window as unknown as { NDEFReader?: ReaderClass }).NDEFReader;
  return typeof found === "function" ? found : null;
}

/**
 * Reading a checkpoint's NFC tag: `start` asks for the NFC permission and listens until a tag
 * with a checkpoint code is tapped (`onCode`, then it stops) or `stop`; a tag with no code is
 * `onUnreadable`. `supported` is false where the browser has no Web NFC (the page does not offer
 * it). Listening ends with the page.
 */
export function useNfcReader(
  onCode: (code: string) => void,
  onUnreadable: () => void,
): { supported: boolean; active: Ref<boolean>; start: () => Promise<void>; stop: () => void } {
  const Reader = readerClass();
  const active = ref(false);
  let abort: AbortController | null = null;

  function stop(): void {
    abort?.abort();
    abort = null;
    active.value = false;
  }

  async function start(): Promise<void> {
    if (!Reader || active.value) return;
    const reader = new Reader();
    abort = new AbortController();
    reader.addEventListener("reading", (event) => {
      const code = codeFromRecords(event.message.records);
      if (!code) return onUnreadable();
      stop();
      onCode(code);
    });
    reader.addEventListener("readingerror", onUnreadable);
    active.value = true;
    try {
      await reader.scan({ signal: abort.signal });
    } catch (err) {
      stop();
      throw err;
    }
  }

  onScopeDispose(stop);
  return { supported: Reader !== null, active, start, stop };
}
