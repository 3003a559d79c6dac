import type { Ref } from "vue";
import { type LiveEvent, useLiveEvents } from "@/composables/useLiveEvents";
import { isConsentRequested, isVisitorArrived, type VisitorArrived } from "@/visitors";

export interface VisitorLiveOptions {
  /** A visitor of the household passed a gate. */
  onArrived?: (event: VisitorArrived) => void;
  /** Something about the household's passes changed (arrival, consent asked or answered, a drop). */
  onChange?: () => void;
}

/**
 * What a resident's visitor page needs of the live channel: to read its passes again when one
 * changes. The notices themselves (an arrival, a walk-in asking to come in) are shown app-wide by
 * `VisitorNotices`, so that they reach the resident on any page.
 */
export function useVisitorLive(options: VisitorLiveOptions = {}): { connected: Ref<boolean> } {
  function onEvent(event: LiveEvent): void {
    if (isVisitorArrived(event)) {
      options.onArrived?.(event);
      options.onChange?.();
    } else if (isConsentRequested(event) || event.type === "visitor.consent") {
      options.onChange?.();
    }
  }

  return useLiveEvents(onEvent, {
    onOpen: (again) => {
      if (again) options.onChange?.();
    },
  });
}
