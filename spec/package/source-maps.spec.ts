// The package ships dist/ but not lib/: its source maps must carry the TypeScript they point at, so
// that a stack trace through vastflow can be read back to the source. Run after `npm run build`
// (`npm test` builds first).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = path.join(root, 'dist');

function mapsUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js.map'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('the built package', () => {
  it('embeds in each dist/*.js.map the source of every file it names (sourcesContent)', function () {
    if (!fs.existsSync(path.join(dist, 'index.js.map'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
    const maps = mapsUnder(dist);
    expect(maps.length).to.be.greaterThan(10);
    for (const file of maps) {
      const map = JSON.parse(fs.readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      const where = path.relative(root, file);
      expect(map.sourcesContent, `${where} has no sourcesContent`).to.be.an('array').with.length(map.sources.length);
      map.sources.forEach((source, i) => {
        const ts = path.resolve(path.dirname(file), source);
        expect(map.sourcesContent![i], `${where}: the content of ${source} (a stale dist/? run npm run build)`).to.equal(fs.readFileSync(ts, 'utf8'));
      });
    }
  });
});
