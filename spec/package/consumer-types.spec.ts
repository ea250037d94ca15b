// The package as a TypeScript user installs it: the tarball `npm pack` makes, beside only the
// packages it depends on at run time (no devDependency of ours), type-checked in a strict project
// that does not skip the libraries' declarations. Run after `npm run build` (`npm test` builds first).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const program = `
import { Andes, Engine, Headwaters, PostgresStore, River, type EngineOptions, type Listener, type RiverAttr, type StreamKind, type WorkerOptions } from 'vastflow';
interface Order { id: string; qty?: number }
class Hello extends River<{ who: string }> {
  update(attr: RiverAttr) { attr.retryTimes = 2; }
  async flow(hw: Headwaters<Order>) { hw.put('id', this.config?.who ?? 'x'); }
}
const engine = await Engine.open({ store: 'memory', classes: [Hello] });
const outcome = await (await new Andes(engine).drawStream(new Hello({ who: 'a' })).start()).result();
const status: 'success' | 'fail' | 'cancelled' = outcome.status;
void status;
void new PostgresStore({ connectionString: 'postgres://localhost/x' });
// what process.env gives, under exactOptionalPropertyTypes too
void new PostgresStore({ connectionString: process.env['DATABASE_URL'] });
const options: EngineOptions = { store: process.env['VASTFLOW_DB'], worker: { heartbeat: '1s' } satisfies WorkerOptions };
void options;
const kind: StreamKind = 'dam';
const onEnd: Listener<'flow:end'> = (e) => void e.status;
engine.on('flow:end', onEnd);
void kind;
await engine.close();
`;

/** A CommonJS file of a CommonJS project importing the package, which is ESM only. */
const commonJs = `import { Engine } from 'vastflow';
void Engine;
`;

describe('the packed package, in a TypeScript project', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-consumer-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('type-checks in strict mode, libraries checked too, with only its run-time dependencies installed', () => {
    if (!fs.existsSync(path.join(root, 'dist', 'index.d.ts'))) throw new Error('dist/ is not built: run `npm run build` (npm test does)');
    const packed = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(path.join(modules, 'vastflow'), { recursive: true });
    execFileSync('tar', ['-xzf', path.join(dir, packed), '-C', path.join(modules, 'vastflow'), '--strip-components', '1']);
    // what `npm install vastflow` brings: the lock's packages not marked dev
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    for (const [where, p] of Object.entries(lock.packages)) {
      if (where === '' || p.dev === true || where.split('node_modules/').length !== 2) continue;
      const name = where.slice('node_modules/'.length);
      fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
      fs.symlinkSync(path.join(root, where), path.join(modules, name), 'dir');
    }
    expect(fs.existsSync(path.join(modules, 'mocha')), 'a devDependency was installed').to.equal(false);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    fs.writeFileSync(path.join(dir, 'index.ts'), program);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--exactOptionalPropertyTypes',
      '--skipLibCheck',
      'false',
      '--target',
      'ES2022',
      '--lib',
      'ES2022',
      '--module',
      'NodeNext',
    ];
    args.push('--moduleResolution', 'NodeNext', '--types', 'node', 'index.ts');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, ...args], { cwd: dir, encoding: 'utf8' });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(out, 'tsc reported errors').to.equal('');
  });

  it('is refused by TypeScript in a CommonJS file (ESM only), as Node refuses it, rather than compiling to a require() that fails', () => {
    const project = path.join(dir, 'cjs');
    fs.mkdirSync(project);
    fs.symlinkSync(path.join(dir, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'cjs-consumer', private: true }));
    fs.writeFileSync(path.join(project, 'index.cts'), commonJs);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', 'index.cts'], {
        cwd: project,
        encoding: 'utf8',
      });
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    // no `require` condition in its exports: the module is not found for a require() (TS2307)
    expect(out).to.match(/index\.cts\(1,\d+\): error TS2307: Cannot find module 'vastflow'/);
  });
});
