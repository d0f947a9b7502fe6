import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { contentSecurityPolicyHeader, contentSecurityPolicyMeta } from "./src/content-security-policy";

/** The CSP meta tag in the built index.html only: the dev server's hot reload needs an inline script. */
const cspMetaTag: Plugin = {
  name: "prunelab-csp-meta",
  apply: "build",
  transformIndexHtml: () => [
    { tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: contentSecurityPolicyMeta }, injectTo: "head-prepend" },
  ],
};

export default defineConfig({
  plugins: [react(), cspMetaTag],
  // Module workers (the engine, the kernel self-test) are bundled as ES modules like the page.
  worker: { format: "es" },
  build: {
    target: "es2022",
    // The kernel self-test page runs the project's WGSL kernels in the browser, in the page and in a
    // worker, against their CPU references; the e2e tests drive it, and users can open it to check a browser.
    rollupOptions: { input: { main: "index.html", kernels: "e2e/kernels.html" } },
  },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1", headers: { "Content-Security-Policy": contentSecurityPolicyHeader } },
});
