// Every TypeScript sample in README.md and docs/*.md is taken from a file in example/, which the
// examples spec runs: so no guide shows code that does not work. A sample may leave lines out
// only by ending where the file's text ends; it matches when its lines appear, in order and
// contiguous, in one example file (indentation and trailing spaces aside).
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

function filesUnder(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p, ext) : ext.test(e.name) ? [p] : [];
  });
}

const norm = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

function samples(file: string): Array<{ line: number; code: string }> {
  const out: Array<{ line: number; code: string }> = [];
  const re = /^```(?:ts|typescript)\s*\n([\s\S]*?)^```/gm;
  const text = fs.readFileSync(file, 'utf8');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ line: text.slice(0, m.index).split('\n').length, code: m[1]! });
  }
  return out;
}

describe('documentation samples', () => {
  const examples = filesUnder(path.join(root, 'example'), /\.ts$/).map((f) => ({ f, lines: norm(fs.readFileSync(f, 'utf8')) }));
  const docs = [path.join(root, 'README.md'), ...filesUnder(path.join(root, 'docs'), /\.md$/)].filter((f) => fs.existsSync(f));

  it('has guides with samples to check', () => {
    expect(docs.flatMap(samples).length).to.be.above(10);
  });

  for (const doc of docs) {
    for (const { line, code } of samples(doc)) {
      it(`${path.relative(root, doc)}:${line} is taken from a file in example/`, () => {
        const want = norm(code);
        const found = examples.find(({ lines }) => lines.some((_, i) => want.every((w, j) => lines[i + j] === w)));
        expect(found, `no file in example/ holds this sample:\n${code}`).to.not.equal(undefined);
      });
    }
  }
});
