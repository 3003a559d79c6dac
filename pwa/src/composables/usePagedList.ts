import { type Ref, ref, shallowRef } from "vue";

/** One page of a list endpoint: `{items, total, page, page_size}`. */
export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

/** A list read page by page (what `usePagedList` gives, and what `PagedList.vue` shows). */
export interface PagedList<T> {
  items: Ref<T[]>;
  total: Ref<number | null>;
  loading: Ref<boolean>;
  finished: Ref<boolean>;
  failed: Ref<boolean>;
  error: Ref<unknown>;
  loadMore: () => Promise<void>;
  reset: () => Promise<void>;
  refresh: () => Promise<void>;
}

/** The server's largest page. */
const MAX_PAGE_SIZE = 200;

/**
 * A list read page by page as the user scrolls (for a Vant `van-list`), that can start over (new
 * filters) or refresh in place (something changed) without losing the rows already shown.
 * Answers to a request that a newer one has replaced are dropped.
 */
export function usePagedList<T>(
  fetchPage: (page: number, pageSize: number) => Promise<Paged<T>>,
  pageSize = 20,
): PagedList<T> {
  const items = shallowRef<T[]>([]);
  const total = ref<number | null>(null);
  const loading = ref(false);
  const finished = ref(false);
  const failed = ref(false);
  const error = shallowRef<unknown>(null);
  let page = 0;
  let generation = 0;

  function settle(result: Paged<T>, rows: T[], pages: number): void {
    items.value = rows;
    total.value = result.total;
    page = pages;
    finished.value = rows.length >= result.total || result.items.length < result.page_size;
  }

  /** Ask for rows and `take` the answer; one to a request that a newer one has replaced is dropped. */
  async function ask(pageNumber: number, size: number, take: (result: Paged<T>) => void): Promise<void> {
    const asked = generation;
    loading.value = true;
    try {
      const result = await fetchPage(pageNumber, size);
      if (asked !== generation) return;
      take(result);
    } catch (err) {
      if (asked !== generation) return;
      error.value = err;
      failed.value = true;
    } finally {
      if (asked === generation) loading.value = false;
    }
  }

  /** The next page (van-list's `load`). */
  function loadMore(): Promise<void> {
    return ask(page + 1, pageSize, (result) => settle(result, [...items.value, ...result.items], page + 1));
  }

  /** Start over from the first page (the filters changed). */
  function reset(): Promise<void> {
    generation += 1;
    items.value = [];
    total.value = null;
    page = 0;
    failed.value = false;
    finished.value = false;
    error.value = null;
    return loadMore();
  }

  /** Read again the rows shown so far in one request and swap them in, keeping the scroll position. */
  function refresh(): Promise<void> {
    generation += 1;
    const pages = Math.max(1, Math.min(Math.ceil(items.value.length / pageSize), Math.floor(MAX_PAGE_SIZE / pageSize)));
    return ask(1, pages * pageSize, (result) => {
      failed.value = false;
      settle({ ...result, page_size: pages * pageSize }, result.items, pages);
    });
  }

  return { items, total, loading, finished, failed, error, loadMore, reset, refresh };
}
