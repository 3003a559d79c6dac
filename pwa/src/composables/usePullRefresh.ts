import { ref } from "vue";

/** Pull-to-refresh (a Vant `van-pull-refresh`): `pulling` shows while `reload` runs, and ends with it. */
export function usePullRefresh(reload: () => Promise<unknown>) {
  const pulling = ref(false);
  async function pull(): Promise<void> {
    try {
      await reload();
    } finally {
      pulling.value = false;
    }
  }
  return { pulling, pull };
}
