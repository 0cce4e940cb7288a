// Copy the browser builds of our npm front-end libraries into var/assets/vendor/,
// where Django's staticfiles finds them as /static/vendor/… . Nothing is fetched here:
// `npm ci` installed the packages from the lock file.
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const out = join(root, "var", "assets", "vendor");
const files = {
  "htmx.org/dist/htmx.min.js": "htmx.min.js",
  "@xterm/xterm/lib/xterm.js": "xterm.js",
  "@xterm/xterm/css/xterm.css": "xterm.css",
  "@xterm/addon-fit/lib/addon-fit.js": "addon-fit.js",
  "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
  "sortablejs/Sortable.min.js": "Sortable.min.js",
};

mkdirSync(out, { recursive: true });
for (const [source, target] of Object.entries(files)) {
  const from = join(root, "node_modules", source);
  if (!existsSync(from)) {
    console.error(`build_assets: ${source} is missing; run npm ci`);
    process.exit(1);
  }
  copyFileSync(from, join(out, target));
}
console.log(`build_assets: ${Object.keys(files).length} files in var/assets/vendor`);
