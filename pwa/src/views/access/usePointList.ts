import { computed, ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { type AccessKind, accessKindLabel } from "@/access";
import { call, client } from "@/api/client";
import type { AccessPoint } from "@/api/types";
import { type PagedList, usePagedList } from "@/composables/usePagedList";

/**
 * The access points of a community page by page, narrowed by a kind chip (全部 or one of `kinds`):
 * the manager's points and the guard's doors. Picking another kind reads from the first page again.
 */
export function usePointList<K extends AccessKind>(kinds: readonly K[], communityId: () => string | null) {
  const { t } = useI18n();
  const kind = ref<"all" | K>("all");
  const kindOptions = computed(() => [
    { value: "all" as const, label: t("access.points.allKinds") },
    ...kinds.map((value) => ({ value, label: accessKindLabel(value) })),
  ]);
  const list: PagedList<AccessPoint> = usePagedList((page, pageSize) => {
    const community = communityId();
    return call(
      client.GET("/api/v1/access-points", {
        params: {
          query: {
            page,
            page_size: pageSize,
            ...(community ? { community_id: community } : {}),
            ...(kind.value === "all" ? {} : { kind: kind.value }),
          },
        },
      }),
    );
  });
  watch(kind, () => void list.reset());
  return { kind, kindOptions, list };
}
