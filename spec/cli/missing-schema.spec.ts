import { expect } from 'chai';
import pg from 'pg';
import { cli, inProcess } from '../helpers/cli.js';
import { PG_URL, describePg, freshSchema } from '../helpers/postgres.js';

/** Every command, with the arguments it needs, over `where`. */
const COMMANDS = [
  ['list'],
  ['show', 'x'],
  ['diagram', 'x'],
  ['cancel', 'x'],
  ['redrive', 'x'],
  ['send', 'x', 'm'],
  ['workers'],
  ['purge', '--before', '1d'],
  ['ui', '--port', '0'],
];

describePg('the vastflow CLI on a PostgreSQL schema that holds no store', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let client: pg.Client;
  const tablesOf = async (name: string): Promise<string[] | undefined> => {
    const ns = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
    if (ns.rowCount === 0) return undefined;
    const { rows } = await client.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1', [name]);
    return rows.map((r) => r.tablename);
  };
  beforeEach(async () => {
    ({ schema, drop } = freshSchema('cli'));
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
  });
  afterEach(async () => {
    await client.end();
    await drop();
  });

  it('refuses a schema that does not exist with E_NOT_FOUND on every command, and never creates it', async () => {
    const where = ['--store', PG_URL, '--schema', schema];
    const list = await cli(['list', ...where]);
    expect(list.code, list.stdout).to.equal(1);
    expect(list.stdout).to.equal('');
    expect(list.stderr).to.match(new RegExp(`^E_NOT_FOUND: .*schema ${schema}\\b.*open an engine on it`));
    expect(await tablesOf(schema), 'the schema after list').to.equal(undefined);
    for (const args of COMMANDS) {
      const r = await inProcess([...args, ...where]);
      expect(r.code, args[0]).to.equal(1);
      expect(r.stderr, args[0]).to.match(/^E_NOT_FOUND: /);
      expect(await tablesOf(schema), `the schema after ${args[0]}`).to.equal(undefined);
    }
  });

  it('refuses a schema that exists but holds no vastflow store, and creates no table in it', async () => {
    await client.query(`CREATE SCHEMA "${schema}"`);
    const r = await cli(['list', '--store', PG_URL, '--schema', schema]);
    expect(r.code, r.stdout).to.equal(1);
    expect(r.stderr).to.match(new RegExp(`^E_NOT_FOUND: .*schema ${schema}\\b`));
    expect(await tablesOf(schema)).to.deep.equal([]);
  });
});
