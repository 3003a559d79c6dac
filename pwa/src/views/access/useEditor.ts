import { showConfirmDialog, showFailToast, showSuccessToast } from "vant";
import { type Ref, ref, shallowRef } from "vue";
import { useI18n } from "vue-i18n";
import { describeError } from "@/errors";

/** What a manager's access pane tells the editor about one kind of row (point, group, schedule). */
export interface EditorOptions<T extends { id: string; name: string }> {
  /** The community a new row goes to; without one, 保存 of a new row does nothing. */
  communityId: () => string | null;
  /** Put the row (or blanks for a new one) into the pane's form. */
  fill: (item: T | "new") => void;
  /** Whether the form holds a problem; the pane shows which once `tried` is set. */
  invalid: () => boolean;
  create: (communityId: string) => Promise<unknown>;
  update: (item: T) => Promise<unknown>;
  destroy: (item: T) => Promise<unknown>;
  /** The i18n key of the delete question, given `{ name }`. */
  deleteConfirm: string;
  /** Reload the list after a save, and after a delete (the same reload unless given). */
  saved: () => Promise<void> | void;
  deleted?: () => Promise<void> | void;
}

/** What `EditSheet.vue` needs of an editor, whatever kind of row it edits. */
export interface EditSheetState {
  editing: Readonly<Ref<unknown>>;
  saving: Readonly<Ref<boolean>>;
  close: () => void;
  save: () => Promise<void>;
  remove: () => Promise<void>;
}

/**
 * The edit sheet of a manager's access pane: which row is open (or "new"), the save and the
 * confirmed delete, each ending in a toast and a reload. The form and its fields stay in the pane.
 */
export function useEditor<T extends { id: string; name: string }>(options: EditorOptions<T>) {
  const { t } = useI18n();
  const editing = shallowRef<T | "new" | null>(null);
  const tried = ref(false);
  const saving = ref(false);

  /** Open the sheet on a row, or on a blank one. */
  function edit(item: T | "new"): void {
    tried.value = false;
    options.fill(item);
    editing.value = item;
  }

  /** Close the sheet without saving. */
  function close(): void {
    editing.value = null;
  }

  /** Create or update the open row; problems only show after the first try. */
  async function save(): Promise<void> {
    tried.value = true;
    const item = editing.value;
    if (options.invalid() || saving.value || !item) return;
    saving.value = true;
    try {
      if (item === "new") {
        const communityId = options.communityId();
        if (!communityId) return;
        await options.create(communityId);
      } else {
        await options.update(item);
      }
      showSuccessToast(t("access.admin.saved"));
      editing.value = null;
      await options.saved();
    } catch (err) {
      showFailToast(describeError(err));
    } finally {
      saving.value = false;
    }
  }

  /** Delete the open row once the manager confirms. */
  async function remove(): Promise<void> {
    const item = editing.value;
    if (!item || item === "new") return;
    try {
      await showConfirmDialog({
        message: t(options.deleteConfirm, { name: item.name }),
        confirmButtonText: t("access.admin.delete"),
        confirmButtonColor: "var(--van-danger-color)",
        cancelButtonText: t("common.cancel"),
      });
    } catch {
      return; // cancelled
    }
    try {
      await options.destroy(item);
      showSuccessToast(t("access.admin.deleted"));
      editing.value = null;
      await (options.deleted ?? options.saved)();
    } catch (err) {
      showFailToast(describeError(err));
    }
  }

  return { editing, tried, saving, edit, close, save, remove };
}
