import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Shown at `/` while the package holds no built UI (dist/ui/index.html). */
export const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>vastflow</title></head>
<body><h1>vastflow admin server</h1>
<p>The web UI is not built into this package (dist/ui/ is missing). The JSON API answers under
<code>/api/</code>: <a href="api/flows">/api/flows</a>, <a href="api/workers">/api/workers</a>, /api/events.</p>
</body></html>
`;

/**
 * The directory of the built web UI: `dist/ui/` next to the compiled admin module (`dist/admin/`).
 * Run from the TypeScript sources (lib/admin/, in the specs), it is the build's dist/ui/ too.
 */
export async function uiDirectory(): Promise<string | undefined> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.join(here, '..', 'ui'), path.join(here, '..', '..', 'dist', 'ui')]) {
    if (
      await fs.stat(path.join(dir, 'index.html')).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return dir;
  }
  return undefined;
}

/** A file of the UI to send: its bytes and content type; undefined when there is no such file. */
export async function uiFile(dir: string | undefined, urlPath: string): Promise<{ body: Buffer | string; type: string } | undefined> {
  if (dir === undefined) return urlPath === '/' || urlPath === '/index.html' ? { body: PLACEHOLDER, type: TYPES['.html']! } : undefined;
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  const file = path.resolve(dir, `.${path.posix.normalize(rel)}`);
  // nothing outside the UI's directory, however the path is spelt
  if (file !== dir && !file.startsWith(dir + path.sep)) return undefined;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return undefined;
    return { body: await fs.readFile(file), type: TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' };
  } catch {
    return undefined;
  }
}
