import { type Ref, shallowRef, watch } from "vue";
import { call, client } from "@/api/client";
import type { RuleContext } from "@/rules";

/**
 * The names the 规则 console shows (zones with their devices, the community's devices, the guards
 * rostered now), read when the page opens and again after a zone changes: 200 of each, the API's
 * largest page.
 */
export function useRuleContext(communityId: Readonly<Ref<string | null>>) {
  const context = shallowRef<RuleContext>({ zones: new Map(), devices: new Map(), onDuty: null });

  async function load(): Promise<void> {
    const community = communityId.value ?? undefined;
    const [zones, devices, onDuty] = await Promise.all([
      call(client.GET("/api/v1/zones", { params: { query: { community_id: community, page_size: 200 } } })),
      call(client.GET("/api/v1/devices", { params: { query: { community_id: community, page_size: 200 } } })),
      community
        ? call(client.GET("/api/v1/duty-shifts/on-duty", { params: { query: { community_id: community } } })).catch(
            () => null,
          )
        : Promise.resolve(null),
    ]);
    context.value = {
      zones: new Map(zones.items.map((z) => [z.id, { name: z.name, devices: z.devices }])),
      devices: new Map(devices.items.map((d) => [d.id, { name: d.name, kind: d.kind }])),
      onDuty: onDuty?.filter((g) => g.rostered).map((g) => g.name) ?? null,
    };
  }

  function reload(): void {
    load().catch(() => undefined); // the sentences fall back to generic words
  }

  watch(communityId, reload, { immediate: true });
  return { context, reload };
}
