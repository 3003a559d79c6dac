import "vant/es/style/base.css";
import "./style.css";
import "./elder.css";
import { createPinia } from "pinia";
import { createApp } from "vue";
import { armSoundOnFirstGesture } from "@/alert";
import { onSessionEnded } from "@/api/client";
import { i18n } from "@/i18n";
import { registerServiceWorker } from "@/pwa";
import { router } from "@/router";
import { useElder } from "@/stores/elder";
import { useSession } from "@/stores/session";
import App from "./App.vue";

const pinia = createPinia();
const app = createApp(App).use(pinia).use(i18n).use(router);

onSessionEnded((reason) => {
  const session = useSession(pinia);
  // Only a session we believed in can expire; a signed-out visitor is already where they belong.
  if (!session.signedIn) return;
  session.expire(reason);
  void router.replace({ name: "login", query: { redirect: router.currentRoute.value.fullPath } });
});

// 关怀模式 applies from the first paint, on every screen (the class on <html>).
useElder(pinia);
registerServiceWorker();
// Browsers allow sound only after a tap: the first tap anywhere lets a new alarm be heard.
armSoundOnFirstGesture();
app.mount("#app");
