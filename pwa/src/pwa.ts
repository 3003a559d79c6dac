import { showConfirmDialog } from "vant";
import { registerSW } from "virtual:pwa-register";
import { i18n } from "@/i18n";

/** Register the service worker; a new version waits until the user agrees to reload. */
export function registerServiceWorker(): void {
  const { t } = i18n.global;
  const update = registerSW({
    onNeedRefresh() {
      showConfirmDialog({
        title: t("update.title"),
        message: t("update.message"),
        confirmButtonText: t("update.confirm"),
        cancelButtonText: t("update.later"),
      }).then(
        () => update(),
        () => undefined,
      );
    },
  });
}
