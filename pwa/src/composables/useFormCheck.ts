import { showFailToast } from "vant";
import { computed, type Ref, ref } from "vue";
import { useI18n } from "vue-i18n";
import { describeError, fieldErrorOf } from "@/errors";

type Problems<F extends string> = Partial<Record<F, string>>;

/**
 * The checking of a form that is sent once: the form's own problems (`check`, i18n keys by field)
 * and those the server names (`fieldOfCode`), shown by field only after the first try, so that
 * nothing is red before the user starts. `params` fill the messages' placeholders.
 */
export function useFormCheck<F extends string>(
  check: () => Problems<F>,
  fieldOfCode: Readonly<Record<string, F>>,
  params: Record<string, unknown> = {},
) {
  const { t } = useI18n();
  const tried = ref(false);
  const sending = ref(false);
  const serverErrors = ref({}) as Ref<Problems<F>>;
  const errors = computed<Problems<F>>(() => ({ ...check(), ...serverErrors.value }));

  /** A field's message, once the user has tried to send. */
  function problem(field: F): string {
    const key = tried.value ? errors.value[field] : undefined;
    return key ? t(key, params) : "";
  }

  /** The user changed a field the server had refused: its message goes until the next try. */
  function clearServer(field: F): void {
    if (serverErrors.value[field]) serverErrors.value = { ...serverErrors.value, [field]: undefined };
  }

  /** Send once the form holds no problem (and is not being sent); a refusal goes on its field and in a toast. */
  async function submit(send: () => Promise<unknown>): Promise<void> {
    tried.value = true;
    serverErrors.value = {};
    if (Object.keys(errors.value).length > 0 || sending.value) return;
    sending.value = true;
    try {
      await send();
    } catch (err) {
      serverErrors.value = fieldErrorOf(err, fieldOfCode) ?? {};
      showFailToast(describeError(err));
    } finally {
      sending.value = false;
    }
  }

  return { tried, sending, problem, clearServer, submit };
}
