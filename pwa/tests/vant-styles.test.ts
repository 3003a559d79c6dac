import { describe, expect, it } from "vitest";
import { vantStyleImports } from "../build/vant-styles";

describe("Vant CSS on demand", () => {
  it("imports the CSS of each component a module imports by name, aliased or not", () => {
    const code = `import { Button as VanButton, GridItem as VanGridItem, Icon } from "vant";`;
    expect(vantStyleImports(code)).toEqual([
      "vant/es/button/style/index",
      "vant/es/grid-item/style/index",
      "vant/es/icon/style/index",
    ]);
  });

  it("imports the CSS of function APIs: the toast's for showFailToast, the dialog's for showConfirmDialog", () => {
    const code = `import {\n  showFailToast,\n  showConfirmDialog,\n  showImagePreview,\n} from 'vant';`;
    expect(vantStyleImports(code)).toEqual([
      "vant/es/toast/style/index",
      "vant/es/dialog/style/index",
      "vant/es/image-preview/style/index",
    ]);
  });

  it("skips type imports, helpers without CSS and other packages", () => {
    const code = `import { type ButtonType, useCustomFieldValue } from "vant";\nimport { Button } from "other";`;
    expect(vantStyleImports(code)).toEqual([]);
  });
});
