import { describe, expect, it, vi } from "vitest";
import { type Paged, usePagedList } from "@/composables/usePagedList";

/** A list endpoint over `rows`, answering when the test says so. */
function endpoint(rows: number[]) {
  const pending: Array<() => void> = [];
  const calls: Array<[number, number]> = [];
  const fetchPage = vi.fn((page: number, pageSize: number): Promise<Paged<number>> => {
    calls.push([page, pageSize]);
    const items = rows.slice((page - 1) * pageSize, page * pageSize);
    return new Promise((resolve) => pending.push(() => resolve({ items, total: rows.length, page, page_size: pageSize })));
  });
  const answer = async (index = 0) => {
    pending.splice(index, 1)[0]!();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { fetchPage, calls, answer, pending };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("usePagedList", () => {
  it("reads page after page until all rows are in", async () => {
    const api = endpoint(range(25));
    const list = usePagedList(api.fetchPage, 10);
    for (let i = 0; i < 3; i += 1) {
      const done = list.loadMore();
      await api.answer();
      await done;
    }
    expect(api.calls).toEqual([
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    expect(list.items.value).toEqual(range(25));
    expect(list.total.value).toBe(25);
    expect(list.finished.value).toBe(true);
    expect(list.loading.value).toBe(false);
  });

  it("drops the answer to a request that a reset replaced", async () => {
    const api = endpoint(range(5));
    const list = usePagedList(api.fetchPage, 10);
    const stale = list.loadMore();
    const fresh = list.reset();
    await api.answer(1);
    await fresh;
    await api.answer(0);
    await stale;
    expect(list.items.value).toEqual(range(5));
  });

  it("refreshes the rows shown in one request and goes on paging after them", async () => {
    const rows = range(30);
    const api = endpoint(rows);
    const list = usePagedList(api.fetchPage, 10);
    for (let i = 0; i < 2; i += 1) {
      const done = list.loadMore();
      await api.answer();
      await done;
    }
    rows.unshift(0); // a new row at the top
    const refreshed = list.refresh();
    expect(list.loading.value).toBe(true);
    await api.answer();
    await refreshed;
    expect(api.calls.at(-1)).toEqual([1, 20]);
    expect(list.items.value.slice(0, 3)).toEqual([0, 1, 2]);
    expect(list.items.value).toHaveLength(20);
    expect(list.finished.value).toBe(false);

    const more = list.loadMore();
    await api.answer();
    await more;
    expect(api.calls.at(-1)).toEqual([3, 10]);
    expect(list.items.value).toHaveLength(30);
  });

  it("marks a failed page so the list can offer a retry", async () => {
    const list = usePagedList(() => Promise.reject(new Error("offline")), 10);
    await list.loadMore();
    expect(list.failed.value).toBe(true);
    expect(list.loading.value).toBe(false);
    expect(list.error.value).toBeInstanceOf(Error);
  });
});
