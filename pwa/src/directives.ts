import type { Directive } from "vue";

/**
 * `v-field-test="'login-username'"` on a Vant field puts the data-test id on its <input> or
 * <textarea>, which browser tests fill in; Vant passes no attributes through to that element.
 */
export const vFieldTest: Directive<HTMLElement, string> = {
  mounted(el, { value }) {
    el.querySelector("input, textarea")?.setAttribute("data-test", value);
  },
};
