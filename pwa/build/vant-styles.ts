/**
 * Vant's CSS on demand: each module that imports from "vant" also imports the CSS of what it uses.
 *
 * The app imports Vant components and function APIs by name (`import { Button as VanButton, showToast }
 * from "vant"`), which keeps their types and tree-shakes the JavaScript; their CSS follows here, mapped
 * by the same resolver `unplugin-vue-components` uses for `<van-*>` tags left unimported. Only the
 * CSS of components the app uses is bundled (vite.config.ts gathers it into one stylesheet).
 *
 * `ANJU_PWA_FULL_VANT=1` builds the app as it was before: the whole library's CSS imported first by
 * src/main.ts (the first-load benchmark measures both builds).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { VantResolver } from "@vant/auto-import-resolver";
import type { Plugin } from "vite";

const resolver = VantResolver();
const VANT_ROOT = dirname(createRequire(import.meta.url).resolve("vant/package.json"));
const NAMED_IMPORT = /import\s*\{([^}]*)\}\s*from\s*["']vant["']/g;
/** What src/main.ts imports of Vant's own CSS: the base (variables, resets) before the app's style.css. */
export const BASE_CSS = "vant/es/style/base.css";
export const FULL_CSS = "vant/lib/index.css";

function styleOf(name: string): string | undefined {
  // Function APIs (showToast) resolve by their own name, components by "Van" + name.
  for (const candidate of [name, `Van${name}`]) {
    const style = resolver.resolve(candidate)?.sideEffects;
    // Exports without CSS of their own (Locale's is the base; helpers have none) are skipped.
    if (style && existsSync(join(VANT_ROOT, style.replace(/^vant\//, "") + ".mjs"))) return style;
  }
  return undefined;
}

/** The CSS modules a source's named imports from "vant" need, in the order they are imported. */
export function vantStyleImports(code: string): string[] {
  const styles = new Set<string>();
  for (const [, names = ""] of code.matchAll(NAMED_IMPORT)) {
    for (const specifier of names.split(",")) {
      const name = specifier.trim().split(/\s+as\s+/)[0] ?? "";
      if (!name || name.startsWith("type ")) continue;
      const style = styleOf(name);
      if (style) styles.add(style);
    }
  }
  return [...styles];
}

/** The app's own TypeScript, and a single-file component's script (its own module when it has styles). */
function isAppScript(id: string): boolean {
  const [path = "", query] = id.split("?", 2);
  if (path.includes("/node_modules/")) return false;
  if (path.endsWith(".vue")) return query === undefined || query.includes("type=script");
  return path.endsWith(".ts") && query === undefined;
}

export function vantStyles({ full = false }: { full?: boolean } = {}): Plugin {
  return {
    name: "anju-vant-styles",
    // Unit tests run without CSS.
    apply: (_config, env) => env.mode !== "test",
    transform(code, id) {
      if (!isAppScript(id)) return null;
      if (full) return id.endsWith("/src/main.ts") ? code.replace(BASE_CSS, FULL_CSS) : null;
      const styles = vantStyleImports(code);
      if (styles.length === 0) return null;
      // Before the module's own code: the app's scoped styles still override Vant's, as they did.
      return { code: styles.map((style) => `import "${style}";\n`).join("") + code, map: null };
    },
  };
}
