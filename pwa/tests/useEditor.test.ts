import { beforeEach, describe, expect, it, vi } from "vitest";
import { showConfirmDialog, showFailToast, showSuccessToast } from "vant";
import { type EditorOptions, useEditor } from "@/views/access/useEditor";

vi.mock(import("vant"), async (importOriginal) => ({
  ...(await importOriginal()),
  showConfirmDialog: vi.fn(),
  showFailToast: vi.fn(),
  showSuccessToast: vi.fn(),
}));
vi.mock(import("vue-i18n"), async (importOriginal) => ({
  ...(await importOriginal()),
  useI18n: (() => ({
    t: (key: string, params?: object) => (params ? `${key} ${JSON.stringify(params)}` : key),
  })) as never,
}));

interface Row {
  id: string;
  name: string;
}
const ROW: Row = { id: "r1", name: "北门" };

/** An editor whose server calls and reloads are spies; `invalid` and the community can be changed. */
function editor(overrides: Partial<EditorOptions<Row>> = {}) {
  const options = {
    communityId: vi.fn((): string | null => "c1"),
    fill: vi.fn(),
    invalid: vi.fn(() => false),
    create: vi.fn(async () => undefined),
    update: vi.fn(async () => undefined),
    destroy: vi.fn(async () => undefined),
    deleteConfirm: "access.points.deleteConfirm",
    saved: vi.fn(async () => undefined),
    deleted: vi.fn(async () => undefined),
    ...overrides,
  };
  return { options, ...useEditor<Row>(options) };
}

beforeEach(() => vi.clearAllMocks());

describe("useEditor", () => {
  it("opens a row: fills the form, forgets the last try", async () => {
    const { options, editing, tried, edit, save } = editor({ invalid: vi.fn(() => true) });
    edit("new");
    await save();
    expect(tried.value).toBe(true);
    edit(ROW);
    expect(options.fill).toHaveBeenLastCalledWith(ROW);
    expect(editing.value).toEqual(ROW);
    expect(tried.value).toBe(false);
  });

  it("does not send a form with a problem, and keeps the sheet open", async () => {
    const { options, editing, tried, edit, save } = editor({ invalid: vi.fn(() => true) });
    edit(ROW);
    await save();
    expect(tried.value).toBe(true);
    expect(options.update).not.toHaveBeenCalled();
    expect(editing.value).toEqual(ROW);
  });

  it("creates a new row in the community, then closes and reloads", async () => {
    const { options, editing, saving, edit, save } = editor();
    edit("new");
    await save();
    expect(options.create).toHaveBeenCalledWith("c1");
    expect(showSuccessToast).toHaveBeenCalledWith("access.admin.saved");
    expect(options.saved).toHaveBeenCalledOnce();
    expect(editing.value).toBeNull();
    expect(saving.value).toBe(false);
  });

  it("without a community, saving a new row does nothing", async () => {
    const { options, editing, saving, edit, save } = editor({ communityId: () => null });
    edit("new");
    await save();
    expect(options.create).not.toHaveBeenCalled();
    expect(showSuccessToast).not.toHaveBeenCalled();
    expect(editing.value).toBe("new");
    expect(saving.value).toBe(false);
  });

  it("updates an existing row; a refusal is shown and the sheet stays open", async () => {
    const { options, editing, edit, save } = editor({ update: vi.fn(async () => Promise.reject(new Error("冲突"))) });
    edit(ROW);
    await save();
    expect(options.update).toHaveBeenCalledWith(ROW);
    expect(showFailToast).toHaveBeenCalledOnce();
    expect(options.saved).not.toHaveBeenCalled();
    expect(editing.value).toEqual(ROW);
  });

  it("deletes only once confirmed, naming the row, then reloads with `deleted`", async () => {
    const { options, editing, edit, remove } = editor();
    vi.mocked(showConfirmDialog).mockRejectedValueOnce("cancel");
    edit(ROW);
    await remove();
    expect(options.destroy).not.toHaveBeenCalled();
    expect(editing.value).toEqual(ROW);

    vi.mocked(showConfirmDialog).mockResolvedValueOnce("confirm");
    await remove();
    expect(vi.mocked(showConfirmDialog).mock.calls[1]?.[0]).toMatchObject({
      message: 'access.points.deleteConfirm {"name":"北门"}',
    });
    expect(options.destroy).toHaveBeenCalledWith(ROW);
    expect(showSuccessToast).toHaveBeenCalledWith("access.admin.deleted");
    expect(options.deleted).toHaveBeenCalledOnce();
    expect(options.saved).not.toHaveBeenCalled();
    expect(editing.value).toBeNull();
  });

  it("a new row has nothing to delete", async () => {
    const { edit, remove } = editor();
    edit("new");
    await remove();
    expect(showConfirmDialog).not.toHaveBeenCalled();
  });
});
