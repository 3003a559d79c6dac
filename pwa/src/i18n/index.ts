import { Locale as VantLocale } from "vant";
import vantEn from "vant/es/locale/lang/en-US";
import vantZh from "vant/es/locale/lang/zh-CN";
import { createI18n } from "vue-i18n";
import en from "./en";
import zhCN from "./zh-CN";

export const LOCALES = ["zh-CN", "en"] as const;
export type AppLocale = (typeof LOCALES)[number];
export type MessageSchema = typeof zhCN;

const STORAGE_KEY = "anju.locale";
const VANT_LOCALES = { "zh-CN": ["zh-CN", vantZh], en: ["en-US", vantEn] } as const;

function isLocale(value: unknown): value is AppLocale {
  return LOCALES.includes(value as AppLocale);
}

/** The language the user picked on this device, if any. */
export function storedLocale(): AppLocale | null {
  const value = localStorage.getItem(STORAGE_KEY);
  return isLocale(value) ? value : null;
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: storedLocale() ?? "zh-CN",
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zhCN, en },
});

/** The language the app is showing now. */
export function currentLocale(): AppLocale {
  return i18n.global.locale.value;
}

/** Show the app (and Vant's own texts) in `locale`; `persist` remembers it as this device's choice. */
export function setLocale(locale: AppLocale, { persist = true } = {}): void {
  i18n.global.locale.value = locale;
  const [vantName, vantMessages] = VANT_LOCALES[locale];
  VantLocale.use(vantName, vantMessages);
  document.documentElement.lang = locale;
  if (persist) localStorage.setItem(STORAGE_KEY, locale);
}

setLocale(currentLocale(), { persist: false });
