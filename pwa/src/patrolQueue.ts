/**
 * The phone's queue of patrol scans, in IndexedDB: a scan is written here before it is sent, and
 * removed only once the server has answered for it (src/patrol.ts `settled`). A scan made without
 * signal, or whose answer was lost, or one queued when the browser was killed, is still here when
 * the page opens again; the server stores each scan id once, so sending it again is safe.
 */
import type { QueuedScan } from "@/patrol";

const DB_NAME = "anju-patrol";
const STORE = "scans";

interface Stored {
  seq: number; // the order scans were made in: sent in that order
  scan: QueuedScan;
}

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("indexedDB request failed"));
  });
}

export class ScanQueue {
  private constructor(private readonly db: IDBDatabase) {}

  /** Open (and on first use create) the queue's database. */
  static async open(): Promise<ScanQueue> {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "scan.id" });
    };
    return new ScanQueue(await done(request));
  }

  private store(mode: IDBTransactionMode): IDBObjectStore {
    return this.db.transaction(STORE, mode).objectStore(STORE);
  }

  /** Keep a scan until it is answered for (a scan already queued stays as it is). */
  async add(scan: QueuedScan): Promise<void> {
    const stored: Stored = { seq: Date.now() + Math.random(), scan };
    await done(this.store("readwrite").put(stored));
  }

  /** Every queued scan, oldest first. */
  async all(): Promise<QueuedScan[]> {
    const rows = (await done(this.store("readonly").getAll())) as Stored[];
    return rows.sort((a, b) => a.seq - b.seq).map((row) => row.scan);
  }

  /** Forget a scan the server has answered for. */
  async remove(id: string): Promise<void> {
    await done(this.store("readwrite").delete(id));
  }

  close(): void {
    this.db.close();
  }
}
