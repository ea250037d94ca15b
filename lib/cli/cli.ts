import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { startAdminServer } from '../admin/admin-server.js';
import type { AdminSource } from '../admin/admin-source.js';
import { emptyMessageName, StoreSource } from '../admin/store-source.js';
import { durationMs } from '../clock/duration.js';
import { toMermaid } from '../diagram/mermaid.js';
import { frozenJsonCopy } from '../model/json.js';
import { isVastflowError, VastflowError } from '../errors/vastflow-error.js';
import { createLogger } from '../logging/logger.js';
import type { Json } from '../model/json.js';
import { LevelStore } from '../store/level-store.js';
import { FlowStatus, isFinal } from '../store/records.js';
import type { Store } from '../store/store.js';
import { CliError, UsageError } from './cli-error.js';
import { flowDetail, flowsTable, printableJson, printableLines, workersTable } from './format.js';
import { HttpSource } from './http-source.js';
import { PostgresStore } from '../store/postgres-store.js';
import { isPostgresUrl } from '../store/postgres/options.js';

/** Where the CLI writes, and the environment it reads. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM): ends `vastflow ui`. */
  stopped?: Promise<void>;
}

const WHERE = `Where:
  --store PATH|URL   a LevelDB directory or a postgres:// URL (default: env VASTFLOW_DB, else .vastflow)
  --schema NAME      the PostgreSQL schema of the store (default: vastflow)
  --url URL          a running engine's admin server, e.g. http://127.0.0.1:7411 (engine.serve())
  --token TOKEN      the admin server's token (default: env VF_TOKEN)
  (these and --json may come before the command too)`;

const COMMANDS: Record<string, { usage: string; about: string; options: NonNullable<ParseArgsConfig['options']>; args: [number, number] }> = {
  list: {
    usage: 'vastflow list [--status STATUS] [--limit N] [--before ID] [--json]',
    about: 'Flows, newest first. --before pages: pass the last id of the page before.',
    options: { status: { type: 'string' }, limit: { type: 'string' }, before: { type: 'string' } },
    args: [0, 0],
  },
  show: { usage: 'vastflow show <id|requestId> [--json]', about: "A flow's status, headwaters and streams.", options: {}, args: [1, 1] },
  diagram: { usage: 'vastflow diagram <id|requestId> [--json]', about: 'A Mermaid flowchart of the flow as it ran.', options: {}, args: [1, 1] },
  cancel: {
    usage: 'vastflow cancel <id|requestId> [--reason TEXT]',
    about: 'Cancels a flow (a flow that has ended is left as it is).',
    options: { reason: { type: 'string' } },
    args: [1, 1],
  },
  redrive: { usage: 'vastflow redrive <id|requestId>', about: 'Resumes a failed flow from the streams that failed.', options: {}, args: [1, 1] },
  send: {
    usage: 'vastflow send <id|requestId> <name> [json]',
    about: "Sends a message to a flow's Dam (payload: JSON, default null).",
    options: {},
    args: [2, 3],
  },
  workers: { usage: 'vastflow workers [--json]', about: 'The live engines on the store.', options: {}, args: [0, 0] },
  purge: {
    usage: 'vastflow purge --before DURATION [--status success|fail|cancelled] [--json]',
    about: 'Deletes ended flows last updated more than DURATION ago (e.g. 30d, 12h).',
    options: { before: { type: 'string' }, status: { type: 'string' } },
    args: [0, 0],
  },
  ui: {
    usage: 'vastflow ui [--port 7411] [--host 127.0.0.1] [--token TOKEN]',
    about: 'Serves the web UI and the admin API over a store (it runs no flow; commands are recorded for the engines).',
    options: { port: { type: 'string' }, host: { type: 'string' } },
    args: [0, 0],
  },
};

const COMMON: NonNullable<ParseArgsConfig['options']> = {
  store: { type: 'string' },
  schema: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The command of that name; undefined for any other word, `constructor` and `__proto__` too. */
function commandOf(name: string | undefined): (typeof COMMANDS)[string] | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

export function usage(command?: string): string {
  const c = commandOf(command);
  if (c !== undefined) return `Usage: ${c.usage}\n\n${c.about}\n\n${WHERE}\n`;
  const lines = Object.values(COMMANDS).map((x) => `  ${x.usage}`);
  return `Usage: vastflow <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n${WHERE}\n  --json             one JSON document instead of a table\n  --help             a command's usage\n  --version          the package's version\n`;
}

/** The package's version, from its package.json (two levels up from dist/cli/ and from lib/cli/). */
function version(): string {
  return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Runs the CLI on `argv` (without node and the script); resolves with the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { command, rest } = splitCommand(argv);
  if (command === '--version' || command === 'version') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(usage());
    return command === undefined ? 2 : 0;
  }
  const spec = commandOf(command);
  if (spec === undefined) {
    io.stderr(`vastflow: unknown command ${JSON.stringify(command)}\n\n${usage()}`);
    return 2;
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseWithNumbers(rest, { ...COMMON, ...spec.options });
    if (parsed.values['help'] === true) {
      io.stdout(usage(command));
      return 0;
    }
    const n = parsed.positionals.length;
    if (n < spec.args[0] || n > spec.args[1])
      throw new UsageError(n < spec.args[0] ? 'missing arguments' : `unexpected argument ${JSON.stringify(parsed.positionals[spec.args[1]])}`);
    if (parsed.values['store'] !== undefined && parsed.values['url'] !== undefined) throw new UsageError('give --store or --url, not both');
  } catch (err) {
    io.stderr(`vastflow ${command}: ${(err as Error).message}\n\n${usage(command)}`);
    return 2;
  }
  let close: (() => Promise<void>) | undefined;
  try {
    const v = parsed.values;
    const args = parsed.positionals;
    const json = v['json'] === true;
    const check = checkOptions(command, v);
    if (command === 'send') {
      // checked before a store opens or the admin server is asked, so that --store and --url answer alike
      if (args[1] === '') throw emptyMessageName();
      check.payload = payloadOf(args[2]);
    }
    const token = (v['token'] as string | undefined) ?? (io.env['VF_TOKEN'] || undefined);
    let source: Omit<AdminSource, 'subscribe'>;
    let store: StoreSource | undefined;
    if (typeof v['url'] === 'string') {
      if (command === 'ui') throw new UsageError('ui serves a store: give --store, not --url');
      if (!/^https?:\/\/[^/]/i.test(v['url']) || !URL.canParse(v['url'])) {
        throw new UsageError(
          `--url must be the http:// or https:// address of an admin server (engine.serve()), e.g. http://127.0.0.1:7411; got ${JSON.stringify(v['url'])}`,
        );
      }
      source = new HttpSource(v['url'], token);
    } else {
      const opened = await openStore((v['store'] as string | undefined) ?? (io.env['VASTFLOW_DB'] || '.vastflow'), v['schema'] as string | undefined);
      const s = (store = new StoreSource(
        opened,
        createLogger({ level: io.env['VASTFLOW_LOG_LEVEL'] ?? 'warn' }, 'vastflow: logger', 'env VASTFLOW_LOG_LEVEL'),
      ));
      source = s;
      close = async () => {
        s.close();
        await opened.close();
      };
    }
    const out = (value: unknown, text: string): void => io.stdout(json ? `${printableJson(value)}\n` : text);
    switch (command) {
      case 'list': {
        const flows = await source.list(check.list!);
        out(flows, flowsTable(flows));
        return 0;
      }
      case 'show':
      case 'diagram': {
        const snap = await source.get(args[0]!);
        if (snap === undefined) throw new CliError('E_NOT_FOUND', `no flow "${args[0]}"`);
        const mermaid = (snap as { mermaid?: string }).mermaid ?? toMermaid(snap);
        if (command === 'diagram') out({ id: snap.id, mermaid }, printableLines(mermaid));
        else out({ ...snap, mermaid }, flowDetail(snap));
        return 0;
      }
      case 'cancel': {
        const { id, status } = await source.cancel(args[0]!, v['reason'] as string | undefined);
        // by what it did, not by where it went: an admin server over a store only records it too
        const said =
          status === 'cancelled'
            ? 'cancelled'
            : isFinal(status)
              ? `it had ended (${status}); left as it is`
              : `cancel recorded (the flow is ${status}); the engine that runs the flow carries it out`;
        out({ id, cancel: true, status }, `flow ${id}: ${said}\n`);
        return 0;
      }
      case 'redrive': {
        const { id, recorded } = await source.redrive(args[0]!);
        out(
          { id, redrive: true, recorded },
          recorded ? `flow ${id}: redrive recorded; an engine with the flow's classes carries it out\n` : `flow ${id}: redriven\n`,
        );
        return 0;
      }
      case 'send': {
        const { id } = await source.send(args[0]!, args[1]!, check.payload!);
        // through the admin server the engine stores the message and hands it to the flow if it runs it there;
        // on a store opened directly it is only recorded, as cancel and redrive are
        const name = JSON.stringify(args[1]);
        out(
          { id, message: args[1] },
          store === undefined
            ? `flow ${id}: message ${name} stored in the flow's inbox, for its Dam ${name}\n`
            : `flow ${id}: message ${name} recorded in the flow's inbox; the engine that runs the flow hands it to its Dam ${name}\n`,
        );
        return 0;
      }
      case 'workers': {
        const workers = await source.workers();
        out(workers, workersTable(workers));
        return 0;
      }
      case 'purge': {
        const removed = await source.purge(check.purge!);
        out({ removed }, `removed ${removed} flow${removed === 1 ? '' : 's'}\n`);
        return 0;
      }
      default: {
        // ui: the admin server over the store, until the process is told to stop
        const server = await startAdminServer(
          store!,
          { port: check.port!, host: (v['host'] as string | undefined) ?? '127.0.0.1', token },
          createLogger({ level: 'warn' }),
        );
        io.stdout(`vastflow ui: serving on ${server.url}${token === undefined ? '' : ' (token required)'}\n`);
        await (io.stopped ?? new Promise<void>(() => undefined));
        await server.close();
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`vastflow ${command}: ${err.message}\n\n${usage(command)}`);
      return 2;
    }
    if (err instanceof CliError || isVastflowError(err)) io.stderr(`${(err as CliError).code}: ${printableLines(err.message)}\n`);
    else io.stderr(`E_INTERNAL: ${printableLines(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
  } finally {
    await close?.().catch(() => undefined);
  }
}

const STATUSES: readonly string[] = Object.values(FlowStatus);
const ENDED = ['success', 'fail', 'cancelled'] as const;

/**
 * The command word and the other arguments: the options every command takes (`--store`, `--url`,
 * `--json`, ...) may come before the command too, as in `vastflow --store ./data list`.
 */
function splitCommand(argv: string[]): { command: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : '';
    const option = name !== 'help' && Object.hasOwn(COMMON, name) ? COMMON[name] : undefined;
    if (option === undefined) return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    if (option.type === 'string' && !arg.includes('=')) i++; // its value
  }
  return { command: undefined, rest: argv };
}

/** A negative number (`-5`, `-0.5`, `-1e3`): an argument or an option's value, never an option. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * parseArgs, with negative numbers taken as values: it reads `send id n -5` as an option `-5` and
 * refuses `--limit -5` as ambiguous. Each is passed through as a placeholder no shell can pass
 * (a NUL byte) and put back after.
 */
function parseWithNumbers(
  args: string[],
  options: ParseArgsConfig['options'],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const numbers: string[] = [];
  const held = args.map((a) => (NEGATIVE_NUMBER.test(a) ? `\0${numbers.push(a) - 1}` : a));
  const back = (v: string): string => (v.startsWith('\0') ? numbers[Number(v.slice(1))]! : v);
  const { values, positionals, tokens } = parseArgs({ args: held, options, allowPositionals: true, strict: true, tokens: true });
  // parseArgs keeps the last of an option given twice; which one was meant is not ours to guess
  const seen = new Set<string>();
  for (const t of tokens as Array<{ kind: string; name?: string }>) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once; give it once`);
    seen.add(t.name);
  }
  const out: Record<string, string | boolean | undefined> = {};
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === 'string' ? back(v) : (v as boolean | undefined);
  return { values: out, positionals: positionals.map(back) };
}

/** The command's options checked and converted; UsageError for bad ones. */
function checkOptions(command: string, v: Record<string, string | boolean | undefined>) {
  const out: {
    list?: { status?: FlowStatus; limit: number; before?: string };
    purge?: { before: number; status?: (typeof ENDED)[number] };
    payload?: Json;
    port?: number;
  } = {};
  const status = v['status'] as string | undefined;
  if (command === 'list') {
    if (status !== undefined && !STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
    const limit = wholeNumber(v['limit'], 50);
    if (limit === undefined || limit < 1 || limit > 1000) throw new UsageError('--limit must be an integer from 1 to 1000, in digits');
    out.list = { limit };
    if (status !== undefined) out.list.status = status as FlowStatus;
    if (v['before'] === '') throw new UsageError('--before must be the id of a flow (the list goes on with the flows older than it)');
    if (typeof v['before'] === 'string') out.list.before = v['before'];
  }
  if (command === 'purge') {
    const ms = typeof v['before'] === 'string' ? durationMs(v['before']) : undefined;
    if (ms === undefined) throw new UsageError("--before must be a duration such as '30d', '12h' or '90m' (flows last updated longer ago are deleted)");
    if (status !== undefined && !(ENDED as readonly string[]).includes(status))
      throw new UsageError('--status must be success, fail or cancelled (only ended flows are purged)');
    // a duration that reaches back past 1970 purges what is older than that: nothing
    out.purge = { before: Math.max(0, Date.now() - ms) };
    if (status !== undefined) out.purge.status = status as (typeof ENDED)[number];
  }
  if (command === 'ui') {
    const port = wholeNumber(v['port'], 7411);
    if (port === undefined || port > 65535) throw new UsageError('--port must be an integer from 0 to 65535, in digits');
    out.port = port;
  }
  return out;
}

/** An option's value as a whole number written in digits (not `0x10`, `+5` or `5e0`); `absent` when not given. */
function wholeNumber(value: string | boolean | undefined, absent: number): number | undefined {
  if (value === undefined) return absent;
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/** Parses a send's payload argument. */
export function payloadOf(raw: string | undefined): Json {
  if (raw === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError(`the payload must be JSON, got ${JSON.stringify(raw)} (quote strings: '"text"')`);
  }
  // what JSON.parse takes but the headwaters refuse (1e999 is Infinity, a "__proto__" key, 300 levels)
  return frozenJsonCopy(parsed, 'send: the payload');
}

/** Opens the store a --store names, for reading and recording commands. */
async function openStore(where: string, schema: string | undefined): Promise<Store> {
  let store: Store;
  if (isPostgresUrl(where)) {
    // create: false: a schema that holds no store (a typo in --schema) is refused, not created
    store = new PostgresStore({ connectionString: where, connectTimeoutMs: 10_000, create: false, ...(schema === undefined ? {} : { schema }) });
  } else {
    // a directory that is not there holds no flows: the CLI must not create an empty store
    if (!fs.existsSync(where)) throw new CliError('E_NOT_FOUND', `no vastflow store at ${where} (give --store PATH|URL or set VASTFLOW_DB)`);
    // nor does a directory that holds no LevelDB (LevelDB would make one there)
    if (!fs.existsSync(path.join(where, 'CURRENT'))) {
      throw new CliError('E_NOT_FOUND', `no vastflow store at ${where}: the directory holds no LevelDB (give --store PATH|URL or set VASTFLOW_DB)`);
    }
    store = LevelStore.at(where);
  }
  try {
    await store.open();
  } catch (err) {
    if (isVastflowError(err, 'E_NOT_FOUND')) throw new VastflowError('E_NOT_FOUND', `${err.message}, or check --store and --schema`);
    if (isVastflowError(err, 'E_STORE_LOCKED')) {
      throw new VastflowError(
        'E_STORE_LOCKED',
        `${err.message}: another process holds this LevelDB directory (an engine, or another vastflow command still running); try again once it is done, or talk to the engine through its admin server: --url http://127.0.0.1:7411 (engine.serve())`,
      );
    }
    throw err;
  }
  return store;
}
