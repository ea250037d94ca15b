// Runs the examples as a user would (they import 'vastflow', i.e. the built dist/), so that the
// code the README and the guides show is proven on every CI run. `npm test` builds first.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { childEnv } from '../helpers/child.js';
import { itPg } from '../helpers/postgres.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function example(file: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(root, 'example', file)], {
    cwd: root,
    env: childEnv(env),
    timeout: 30_000,
  });
  return stdout;
}

describe('examples', function () {
  this.timeout(40_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-example-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  before(function () {
    if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  it('vm-volume (npm start) runs the flow to success on LevelDB', async () => {
    const out = await example('vm-volume.ts', { VASTFLOW_DB: path.join(dir, 'db') });
    expect(out).to.match(/CreateVm: poll \d+: ACTIVE/);
    expect(out).to.match(/atlantic: success/);
    expect(out).to.match(/flow \S+: success/);
    expect(fs.existsSync(path.join(dir, 'db'))).to.equal(true);
  });

  it('crash-demo (npm run example:crash) is killed mid-cycle and resumes to success', async () => {
    const out = await example('crash-demo.ts');
    expect(out).to.include('ended by SIGKILL');
    expect(out).to.match(/CreateVm\s+cycling/);
    expect(out).to.match(/resumed flow \S+: success/);
  });

  it('order (npm run example:order) loads its JSON blueprint, retries both services and records the outcome', async () => {
    const out = await example('order.ts', { VASTFLOW_DB: path.join(dir, 'db') });
    expect(out).to.match(/CreateClient: attempt 1 failed \(client: 503/);
    expect(out).to.match(/CreateOrder: success after 3 attempt/);
    expect(out).to.match(/atlantic recorded: success: order order-\S+ for client-/);
  });

  itPg('example: cluster (npm run example:cluster) runs 60 orders on three engines sharing PostgreSQL, one of them killed', async () => {
    const out = await example('cluster/cluster.ts');
    expect(out).to.include('engine-a: SIGKILL');
    expect(out).to.include('client: 60 of 60 orders succeeded');
    expect(out).to.match(/live engines: api, engine-b, engine-c\n/);
    const ran = [...out.matchAll(/engine-[bc]: closed after (\d+) flows/g)].map((m) => Number(m[1]));
    expect(ran).to.have.length(2);
  });

  itPg('example: approval (npm run example:approval) holds a purchase at a Dam until a second process approves it; the other times out', async () => {
    const out = await example('approval.ts');
    expect(out).to.include('manager: sent approval for laptop-1');
    expect(out).to.include('engine: laptop-1 took message "approval"');
    expect(out).to.include('laptop-1: approved by alice, order po-laptop-1 placed');
    expect(out).to.include('engine: laptop-1 ended success');
    expect(out).to.include('engine: chair-7 ended fail (E_TIMEOUT)');
  });

  it('booking-saga (npm run example:saga) books a flight and a hotel, fails on the car and compensates both', async () => {
    const out = await example('booking-saga.ts');
    const lines = out.split('\n');
    const at = (text: string) => lines.findIndex((l) => l.startsWith(text));
    expect(at('booked flight FLIGHT-1')).to.be.at.least(0);
    expect(at('booked hotel HOTEL-1')).to.be.at.least(0);
    // the reverse of the order in which they succeeded, then Atlantic.fail
    expect(at('cancelled hotel HOTEL-1')).to.be.above(at('booking a car'));
    expect(at('cancelled flight FLIGHT-1')).to.be.above(at('cancelled hotel HOTEL-1'));
    expect(at('trip not booked:')).to.be.above(at('cancelled flight FLIGHT-1'));
    expect(out).to.include('river:compensate BookHotel success');
    expect(out).to.match(/0\.0\.0\s+BookFlight\s+compensated/);
    expect(out).to.match(/1\s+BookCar\s+fail/);
    expect(out).to.include('flow fail: E_RIVER_FAILED; open bookings: flights 0, hotels 0');
  });

  it('guide/rivers shows retries, a timeout, a poll, an atomic river and an input schema', async () => {
    const out = await example('guide/rivers.ts');
    expect(out).to.match(/ChargeCardRiver: attempt 2 failed, retry in \d+ms/);
    expect(out).to.match(/^success \{/m);
    expect(out).to.match(/fail E_INVALID_INPUT river SendInvoiceRiver/);
  });

  it('guide/composing runs parallel, basin, fork and nested streams', async () => {
    const out = await example('guide/composing.ts');
    expect(out).to.match(/2\s+fork\s+SizeFork\s+default success \(chose big\)/);
    expect(out).to.match(/2\.1\.0\s+river\s+Step\s+default skipped/);
    expect(out).to.match(/3\.0\.0\.0\.1\.0 river\s+Step\s+green\s+success/);
  });

  it('guide/events prints the events and the diagram of the flow', async () => {
    const out = await example('guide/events.ts');
    expect(out).to.include('river:end   GreetRiver success');
    expect(out).to.include('flow:end    success');
    expect(out).to.include('class s0 success');
  });

  it('admin serves the API of an engine and reads a flow through it', async () => {
    const out = await example('admin.ts', { PORT: '0', VF_TOKEN: 'example-token' });
    expect(out).to.match(/admin server on http:\/\/127\.0\.0\.1:\d+/);
    expect(out).to.include('flow greet-1: success');
  });
});
