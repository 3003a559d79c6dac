import { defineStore } from "pinia";
import { ref, watchEffect } from "vue";
import { ELDER_STORAGE_KEY, speechFor, speechLang, type Spoken, storedElder } from "@/elder";
import { currentLocale, i18n } from "@/i18n";

/** 关怀模式 on this device: the setting, the page's `elder` class and the voice prompts. */
export const useElder = defineStore("elder", () => {
  const on = ref(storedElder(localStorage.getItem(ELDER_STORAGE_KEY)));
  const canSpeak = typeof window !== "undefined" && "speechSynthesis" in window;

  // The system's "more contrast" takes the elder mode's colours, also with the mode off.
  const contrastQuery = window.matchMedia?.("(prefers-contrast: more)");
  const moreContrast = ref(contrastQuery?.matches ?? false);
  contrastQuery?.addEventListener("change", (event) => (moreContrast.value = event.matches));

  // The whole page follows (elder.css): type, contrast, target sizes.
  watchEffect(() => {
    document.documentElement.classList.toggle("elder", on.value);
    document.documentElement.classList.toggle("contrast-more", moreContrast.value);
  });

  /** Say it aloud, in elder mode and where the browser can speak; a newer prompt cuts the older. */
  function say(event: Spoken): void {
    if (!on.value || !canSpeak) return;
    const utterance = new SpeechSynthesisUtterance(speechFor(event, (key) => i18n.global.t(key)));
    utterance.lang = speechLang(currentLocale());
    utterance.rate = 0.9;
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  }

  function set(value: boolean): void {
    on.value = value;
    localStorage.setItem(ELDER_STORAGE_KEY, value ? "1" : "0");
    say({ kind: "elder-on" });
  }

  return { on, canSpeak, set, say };
});
