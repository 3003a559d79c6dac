import { describe, expect, it } from "vitest";
import { usePullRefresh } from "@/composables/usePullRefresh";

describe("usePullRefresh", () => {
  it("keeps pulling shown until the reload has finished", async () => {
    let finish!: () => void;
    const { pulling, pull } = usePullRefresh(() => new Promise<void>((resolve) => (finish = resolve)));
    pulling.value = true; // what van-pull-refresh sets as the user lets go
    const done = pull();
    await Promise.resolve();
    expect(pulling.value).toBe(true);
    finish();
    await done;
    expect(pulling.value).toBe(false);
  });

  it("ends the pull when the reload fails", async () => {
    const { pulling, pull } = usePullRefresh(() => Promise.reject(new Error("offline")));
    pulling.value = true;
    await expect(pull()).rejects.toThrow("offline");
    expect(pulling.value).toBe(false);
  });
});
