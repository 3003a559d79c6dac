/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";
import { VantResolver } from "@vant/auto-import-resolver";
import vue from "@vitejs/plugin-vue";
import Components from "unplugin-vue-components/vite";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";
import { vantStyles } from "./build/vant-styles";

/** Vant's CSS files and the style modules that import them (vant/es/<component>/style/index.mjs). */
const VANT_CSS = /node_modules[\\/]vant[\\/]es[\\/].*([\\/]style[\\/]|\.css$)/;

export default defineConfig({
  base: "/",
  plugins: [
    vue(),
    // Vant on demand (docs/pwa.md): `<van-*>` tags used without an import are resolved with their CSS;
    // named imports from "vant" get their CSS from vantStyles.
    Components({ resolvers: [VantResolver()], dirs: [], dts: false }),
    vantStyles({ full: process.env.ANJU_PWA_FULL_VANT === "1" }),
    VitePWA({
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      registerType: "prompt",
      injectRegister: false,
      manifest: {
        id: "/",
        name: "安居 Anju",
        short_name: "安居",
        description: "智慧平安小区 · Smart safe community",
        lang: "zh-CN",
        start_url: "/",
        scope: "/",
        display: "standalone",
        orientation: "portrait",
        theme_color: "#1f5fcf",
        background_color: "#f7f8fa",
        categories: ["lifestyle", "utilities"],
      },
      pwaAssets: { config: true, overrideManifestIcons: true },
      injectManifest: { globPatterns: ["**/*.{js,css,html,svg,png,ico}"] },
    }),
  ],
  build: {
    rolldownOptions: {
      output: {
        // The Vant CSS the app uses, in one stylesheet loaded first: on a slow link one file beats a
        // dozen route-sized ones (docs/decisions.md, the first-load benchmark).
        codeSplitting: { groups: [{ name: "vant-styles", test: VANT_CSS }] },
      },
    },
  },
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  server: {
    // The API runs on its own port in development; in production it serves this app itself.
    proxy: {
      "/api": { target: process.env.ANJU_API_URL ?? "http://127.0.0.1:8000", ws: true },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["tests/**/*.test.ts"],
  },
});
