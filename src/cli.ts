#!/usr/bin/env node
/**
 * The `orderly` command: `start`, `chat`, `flows graph`, `flows check`, `catalog import`.
 * The only files that talk to the terminal (console) are this one and `src/cli/`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { importCatalog } from './cli/catalog-import.js';
import { runChat } from './cli/chat.js';
import { httpTransport, inProcessTransport } from './cli/chat-transport.js';
import { checkFlows, graphFlows } from './cli/flows.js';
import { ConfigError, loadConfig, type Config } from './server/config.js';
import { startServer } from './server/start-server.js';

const usage = `usage:
  orderly start                                   run the server (configured by environment variables)
  orderly chat [--url <url>] [--user <id>] [--in-process]
                                                  chat with the shop as a customer
  orderly flows graph [--format mermaid|dot]      print a diagram of every flow's machine
  orderly flows check                             show every flow state is reachable
  orderly catalog import <file> [--out <file>]    validate a CSV/JSON catalog, write normalized JSON`;

/** A failure the user can act on: printed as one line, exit status 1. */
class UsageError extends Error {}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ');
}

function config(): Config {
  return loadConfig(process.env);
}

/**
 * The server's heap policy: V8 lets the old generation grow to four times what survived its
 * last full collection when memory is plentiful, and under load the server's garbage piles
 * up to that. Growing it by at most a factor of two kept the bench's Messenger row at about
 * 230 MB of RSS instead of 260-290, for a percent or two more CPU. Set only here, for the
 * process this command owns (an app embedding startServer keeps its own policy), and only
 * when the command line did not set it: `node --heap-growing-percent=N dist/src/cli.js start`.
 */
function setHeapPolicy(): void {
  if (!process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent/.test(arg))) setFlagsFromString('--heap-growing-percent=100');
}

async function start(): Promise<void> {
  setHeapPolicy();
  const server = await startServer(config());
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`orderly: ${signal} again, exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`orderly: could not close cleanly: ${oneLine(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function chat(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { url: { type: 'string' }, user: { type: 'string' }, 'in-process': { type: 'boolean' } },
  });
  if (values.user !== undefined && !/^[A-Za-z0-9_-]{8,64}$/.test(values.user)) {
    throw new UsageError('--user must be 8-64 characters of A-Z, a-z, 0-9, _ and -');
  }
  let transport;
  if (values['in-process']) {
    const { catalogFile, webAccount } = config();
    transport = await inProcessTransport({ catalogFile, account: webAccount });
  } else {
    const url = values.url ?? `http://localhost:${process.env.PORT || '3000'}`;
    if (!URL.canParse(url)) throw new UsageError(`--url is not a URL: ${url}`);
    transport = httpTransport(url);
  }
  await runChat({
    transport,
    sessionFile: resolve('data', 'chat-session.json'),
    ...(values.user ? { user: values.user } : {}),
  });
}

async function flows(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'graph') {
    const { values } = parseArgs({ args: rest, options: { format: { type: 'string', default: 'mermaid' } } });
    if (values.format !== 'mermaid' && values.format !== 'dot') throw new UsageError('--format must be mermaid or dot');
    console.log(await graphFlows(values.format));
    return;
  }
  if (sub === 'check') {
    parseArgs({ args: rest, options: {} });
    const report = await checkFlows();
    for (const line of report.lines) console.log(line);
    if (!report.ok) process.exitCode = 1;
    return;
  }
  throw new UsageError(`unknown command: flows ${sub ?? ''}\n${usage}`);
}

async function catalog(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'import') throw new UsageError(`unknown command: catalog ${sub ?? ''}\n${usage}`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { out: { type: 'string', default: 'data/catalog.json' } },
  });
  const [file] = positionals;
  if (!file || positionals.length > 1) throw new UsageError('usage: orderly catalog import <file> [--out data/catalog.json]');
  const result = await importCatalog(file, values.out);
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  console.log(
    `imported ${plural(result.products, 'product')} (${result.available} available, ${plural(result.categories, 'category').replace(/ys$/, 'ies')}, ${result.currency}) from ${file} to ${result.out}`,
  );
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start':
      return start();
    case 'chat':
      return chat(args);
    case 'flows':
      return flows(args);
    case 'catalog':
      return catalog(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return;
    default:
      throw new UsageError(`unknown command: ${command}\n${usage}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // A configuration or usage mistake is one line; the user fixes it and runs again.
  if (error instanceof ConfigError || error instanceof UsageError) console.error(`orderly: ${error.message}`);
  else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`orderly: ${error.message}\n${usage}`);
  } else console.error(`orderly: ${oneLine(error)}`);
  process.exit(1);
});
