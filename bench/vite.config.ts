// Serves the matmul benchmark page (bench/matmul.html) from the project root, so the page imports
// the same src/ and shaders/ modules as the app; started in-process by bench/matmul-chromium.ts.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  logLevel: "warn",
  server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false },
  optimizeDeps: { entries: ["bench/matmul.html"] },
});
