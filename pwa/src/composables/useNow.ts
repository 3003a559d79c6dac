import { onScopeDispose, ref, type Ref } from "vue";

/** The current time, ticking every `everyMs`, so that "3 分钟前" moves on while a page stays open. */
export function useNow(everyMs = 30_000): Ref<number> {
  const now = ref(Date.now());
  const timer = setInterval(() => (now.value = Date.now()), everyMs);
  onScopeDispose(() => clearInterval(timer));
  return now;
}
