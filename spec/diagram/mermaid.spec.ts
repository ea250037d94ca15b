import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Andes, Basin, Dam, Engine, Fork, Headwaters, ParallelRiver, River, toMermaid, type RiverAttr } from '../../lib/index.js';

class Ok extends River {}
class Boom extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 1;
    attr.retryInterval = 0;
  }
  async flow() {
    throw new Error('no');
  }
}
class Pick extends Fork {
  choose() {
    return 'yes';
  }
}

describe('Mermaid diagrams', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await Engine.open({ store: 'memory', logger: pino({ level: 'silent' }) });
  });
  afterEach(() => engine.close());

  const draw = (requestId: string, last: River) =>
    new Andes(engine)
      .drawHeadwaters(new Headwaters(requestId))
      .drawStream(new ParallelRiver().append(new Ok()).append(new Ok()))
      .drawStream(new Basin('blue').drawStream(new Ok()))
      .drawStream(new Pick().branch('yes', new Ok()).branch('no', new Ok()))
      .drawStream(last);

  it('draws a flowchart of the drawing: start, every stream, the edges, the Atlantic', () => {
    const text = draw('m-1', new Ok()).toMermaid();
    const lines = text.trim().split('\n');
    expect(lines[0]).to.equal('flowchart LR');
    expect(text).to.include('s0{{"parallel"}}');
    expect(text).to.include('subgraph s1["basin blue"]');
    expect(text).to.include('s2{"Pick"}');
    expect(text).to.include('s2 -- "yes" --> s2_0_0');
    expect(text).to.include('s2 -- "no" --> s2_1_0');
    expect(text).to.include('s2_join --> s3');
    expect(text).to.include('s3 --> atlantic');
    // every node an edge points to is declared
    const declared = new Set(lines.map((l) => /^\s+(\w+)[[({]/.exec(l)?.[1] ?? /^\s+subgraph (\w+)/.exec(l)?.[1]).filter(Boolean));
    for (const l of lines) {
      const m = /^\s+(\w+) (?:-- "[^"]*" )?--> (\w+)$/.exec(l);
      if (m) expect(declared.has(m[1]) && declared.has(m[2]), l).to.equal(true);
    }
  });

  it("styles a finished flow by state, with attempt counts and the fork's choice", async () => {
    const run = await draw('m-2', new Boom()).start();
    await run.result();
    const text = toMermaid((await engine.get(run.id))!);
    expect(text).to.include('s3["Boom<br/>fail · 2 attempts"]');
    expect(text).to.include('class s3 fail');
    expect(text).to.include('class s0_0_0 success');
    expect(text).to.include('chose yes');
    expect(text).to.include('class s2_1_0 skipped');
    expect(text).to.match(/classDef fail fill:/);
  });

  it('escapes quotes and angle brackets in labels', () => {
    class Weird extends River {
      static riverName = 'say "hi" <now>';
    }
    const text = new Andes(engine).drawStream(new Weird()).toMermaid();
    expect(text).to.include('say #quot;hi#quot; #lt;now#gt;');
  });

  it('draws a line break, tab or other control character in a name, color or branch as a space', () => {
    class TwoLines extends River {
      static riverName = 'two\nlines';
    }
    const text = new Andes(engine)
      .drawStream(new Dam('a\n]end'))
      .drawStream(new TwoLines())
      .drawStream(new Basin('blue\r\nsky').drawStream(new Ok()))
      .drawStream(new Pick().branch('yes\tor\rno', new Ok()).branch('no\u0007', new Ok()))
      .toMermaid();
    expect(text).to.not.match(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(text).to.include('s0[/"dam a ]end"\\]');
    expect(text).to.include('s1["two lines"]');
    expect(text).to.include('subgraph s2["basin blue sky"]');
    expect(text).to.include('s3 -- "yes or no" --> s3_0_0');
    expect(text).to.include('s3 -- "no " --> s3_1_0');
    // one statement a line: every line is a statement of the drawing, none a piece of a name
    for (const line of text.trim().split('\n').slice(1)) expect(line, JSON.stringify(line)).to.match(/^ +\S/);
    const parser = fileURLToPath(new URL('./parse-mermaid.mjs', import.meta.url));
    const out = spawnSync(process.execPath, [parser], { input: JSON.stringify([text]), encoding: 'utf8' });
    expect(out.stdout.trim(), out.stderr).to.equal('OK flowchart-v2');
  });

  it("draws diagrams that Mermaid's own parser accepts", async function () {
    this.timeout(30_000);
    const run = await draw('m-3', new Boom()).start();
    await run.result();
    const nested = new Andes(engine).drawStream(new Basin('a').drawStream(new Basin('b').drawStream(new ParallelRiver().append(new Ok()).append(new Ok()))));
    // and every diagram shown in the README and the guides
    const root = new URL('../../', import.meta.url);
    const pages = [
      new URL('README.md', root),
      ...fs
        .readdirSync(new URL('docs/', root))
        .filter((f) => f.endsWith('.md'))
        .map((f) => new URL(`docs/${f}`, root)),
    ];
    const shown = pages.flatMap((page) => [...fs.readFileSync(page, 'utf8').matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]!));
    expect(shown.length, 'diagrams in README.md and docs/').to.be.at.least(2);
    const diagrams = [draw('m-4', new Ok()).toMermaid(), toMermaid((await engine.get(run.id))!), nested.toMermaid(), ...shown];
    const parser = fileURLToPath(new URL('./parse-mermaid.mjs', import.meta.url));
    const out = spawnSync(process.execPath, [parser], { input: JSON.stringify(diagrams), encoding: 'utf8' });
    expect(out.stdout.trim().split('\n'), out.stderr).to.deep.equal(diagrams.map(() => 'OK flowchart-v2'));
  });
});
