import { onScopeDispose, ref, type Ref } from "vue";
import { delivery, scanBody, settled, type Delivery, type QueuedScan } from "@/patrol";
import type { PatrolScan, PatrolScanCreate } from "@/api/types";
import { ScanQueue } from "@/patrolQueue";

const RETRY_MS = 15_000;

export interface ScanResult {
  scan: QueuedScan;
  outcome: Delivery;
  stored?: PatrolScan;
  error?: unknown;
}

/**
 * The offline queue of patrol scans for a page's lifetime: `record` keeps a scan on the phone and
 * sends it; what could not be sent goes when the browser is back online, every 15 s meanwhile, and
 * when the page opens again. `onResult` hears each answer (stored, refused, …).
 */
export function usePatrolQueue(
  send: (body: PatrolScanCreate) => Promise<PatrolScan>,
  onResult: (result: ScanResult) => void,
): { pending: Ref<number>; record: (scan: QueuedScan) => Promise<void>; flush: () => Promise<void> } {
  const pending = ref(0);
  let queue: Promise<ScanQueue> | null = null;
  let flushing: Promise<void> | null = null;
  let again = false;

  function opened(): Promise<ScanQueue> {
    queue ??= ScanQueue.open();
    return queue;
  }

  async function drain(): Promise<void> {
    const store = await opened();
    for (const scan of await store.all()) {
      let result: ScanResult;
      try {
        result = { scan, outcome: "accepted", stored: await send(scanBody(scan, Date.now())) };
      } catch (error) {
        result = { scan, outcome: delivery(error), error };
      }
      if (!settled(result.outcome)) break; // no signal: the rest wait too, in order
      await store.remove(scan.id);
      onResult(result);
    }
    pending.value = (await store.all()).length;
  }

  /** Send what is queued; one flush at a time (a call meanwhile runs once more after it). */
  async function flush(): Promise<void> {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      do {
        again = false;
        await drain();
      } while (again);
    })().finally(() => (flushing = null));
    return flushing;
  }

  async function record(scan: QueuedScan): Promise<void> {
    const store = await opened();
    await store.add(scan);
    pending.value = (await store.all()).length;
    await flush();
  }

  const online = () => void flush();
  window.addEventListener("online", online);
  const timer = setInterval(online, RETRY_MS);
  void flush();
  onScopeDispose(() => {
    window.removeEventListener("online", online);
    clearInterval(timer);
    void queue?.then((q) => q.close());
  });
  return { pending, record, flush };
}
