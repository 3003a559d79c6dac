/**
 * Vant renders a popup's overlay and close icons as `role="button"` without a name; they close the
 * popup, so that is their name. Called on the document as popups come and go.
 */
const UNNAMED = [
  ".van-overlay[role=button]:not([aria-label])",
  ".van-popup__close-icon:not([aria-label])",
  ".van-image-preview__close-icon:not([aria-label])",
  ".van-tag__close:not([aria-label])",
].join(",");

export function labelVantControls(root: ParentNode, close: string): void {
  for (const element of root.querySelectorAll(UNNAMED)) element.setAttribute("aria-label", close);
}

/** A van-stepper's − and + buttons and its number, named (Vant names none of them). */
export function nameStepper(root: ParentNode, names: { value: string; less: string; more: string }): void {
  root.querySelector(".van-stepper__input")?.setAttribute("aria-label", names.value);
  root.querySelector(".van-stepper__minus")?.setAttribute("aria-label", names.less);
  root.querySelector(".van-stepper__plus")?.setAttribute("aria-label", names.more);
}
