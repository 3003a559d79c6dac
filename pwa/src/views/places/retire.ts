import { showConfirmDialog, showFailToast, showSuccessToast } from "vant";
import { i18n } from "@/i18n";
import { describeError } from "@/errors";

/**
 * Retire a building, unit or household after the manager confirms: `send` makes the call. Whether
 * it was retired; a refusal (someone still lives there: `place_in_use`) is said in a toast.
 */
export async function confirmRetire(name: string, send: () => Promise<unknown>): Promise<boolean> {
  const t = i18n.global.t;
  try {
    await showConfirmDialog({
      title: t("places.retire"),
      message: t("places.retireAsk", { name }),
      confirmButtonText: t("places.retire"),
      confirmButtonColor: "var(--van-danger-color)",
      cancelButtonText: t("common.cancel"),
    });
  } catch {
    return false;
  }
  try {
    await send();
  } catch (err) {
    showFailToast(describeError(err));
    return false;
  }
  showSuccessToast(t("places.retired"));
  return true;
}
