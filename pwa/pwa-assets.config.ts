import { defineConfig, minimal2023Preset } from "@vite-pwa/assets-generator/config";

// Icons are generated from public/logo.svg at build time. The maskable and Apple icons sit on the
// brand blue so that the launcher's own mask never shows a white rim.
const background = "#1f5fcf";

export default defineConfig({
  headLinkOptions: { preset: "2023" },
  preset: {
    ...minimal2023Preset,
    maskable: { ...minimal2023Preset.maskable, resizeOptions: { background } },
    apple: { ...minimal2023Preset.apple, resizeOptions: { background } },
  },
  images: ["public/logo.svg"],
});
