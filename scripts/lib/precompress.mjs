// Writes `FILE.br` (brotli, quality 11) and `FILE.gz` (gzip, level 9) beside every WASM, JS and
// CSS file of the built site's `pkg/`, which leptos_axum's file handler sends as they are to a
// browser that takes them (its `ServeDir` looks for these copies). Compressing per request,
// the server can afford only a fast level: the initial bundle went over the wire as 300 KB of
// brotli where quality 11 gives 253 KB. A copy newer than its file is kept (the command runs after every build).
// Node's own zlib: nothing to install.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: precompress.mjs SITE/pkg');
  process.exit(2);
}
let written = 0;
// A copy whose file a later build no longer makes (chunk names change) would still be sent for
// its name: it goes.
for (const name of readdirSync(dir)) {
  const source = name.replace(/\.(br|gz)$/, '');
  if (source !== name && !existsSync(join(dir, source))) rmSync(join(dir, name));
}
for (const name of readdirSync(dir)) {
  if (!/\.(wasm|js|css)$/.test(name)) continue;
  const path = join(dir, name);
  const source = statSync(path);
  const fresh = (copy) => {
    try {
      return statSync(copy).mtimeMs >= source.mtimeMs;
    } catch {
      return false;
    }
  };
  if (fresh(`${path}.br`) && fresh(`${path}.gz`)) continue;
  const bytes = readFileSync(path);
  writeFileSync(`${path}.br`, brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  }));
  writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  written += 1;
}
console.log(`precompressed ${written} files in ${dir}`);
