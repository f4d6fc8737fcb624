/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`; `npm run bench -- --cpu-prof <dir>` writes
 * one per orderly server): self time grouped by area (HTTP/express, signature, JSON, zod,
 * store, xstate, undici, logging, metrics, …), the top functions by self time, and the
 * project's own functions by inclusive time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--from <s>] [--to <s>] [--timeline]
 *
 * `--from` and `--to` keep only the samples taken in that window, in seconds from the start
 * of the profile (a bench row's profile spans start-up, warm-up, load and drain);
 * `--timeline` prints how busy each second was, to find the window.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isMain } from './children.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The JSON a `.cpuprofile` file holds. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Areas, the first match wins; a frame's url is tested, or its name for `name:` rules. */
const areas: readonly (readonly [string, RegExp])[] = [
  ['GC', /^name:\(garbage collector\)$/],
  ['idle', /^name:\(idle\)$/],
  ['VM / native (program)', /^name:\(program\)$/],
  ['startup (tsx/esbuild)', /node_modules\/(tsx|esbuild|get-tsconfig)\//],
  ['HTTP/express', /node_modules\/(express|router|body-parser|raw-body|finalhandler|send|on-finished|content-type|type-is|mime-types|mime-db|qs|accepts|negotiator|depd|iconv-lite|statuses|http-errors|vary|proxy-addr|forwarded|fresh|etag|cookie|media-typer|encodeurl|escape-html|parseurl|path-to-regexp|serve-static|content-disposition|ee-first|unpipe|setprototypeof|bytes|is-promise|debug|ms)\//],
  ['HTTP/node core (http, net, streams)', /^node:(_http|http|net|stream|internal\/(http|stream|streams|net|js_stream|dns|url|querystring)|internal\/deps\/undici)/],
  ['signature (HMAC, crypto)', /(^node:internal\/crypto|^node:crypto|src\/channels\/graph\/signature\.ts)/],
  ['zod parse', /node_modules\/zod\//],
  ['store (better-sqlite3, src/stores)', /(node_modules\/better-sqlite3\/|src\/stores\/)/],
  ['xstate', /node_modules\/xstate\//],
  ['undici send', /node_modules\/undici\//],
  ['grammY (telegram)', /node_modules\/(grammy|@grammyjs|bottleneck)\//],
  ['logging (pino)', /(node_modules\/(pino|sonic-boom|thread-stream|pino-std-serializers|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free)\/|src\/server\/logger\.ts)/],
  ['metrics (prom-client)', /(node_modules\/(prom-client|tdigest|bintrees)\/|src\/server\/metrics\.ts)/],
  ['engine core (src/core)', /src\/core\//],
  ['flows', /\/flows\//],
  ['channels (src/channels)', /src\/channels\//],
  ['server (src/server, src/api)', /src\/(server|api|jobs)\//],
  ['commerce', /src\/commerce\//],
  ['node runtime (events, timers, promises)', /^node:(events|timers|internal\/(timers|process|async_hooks|event_target|events|util|validators|errors|buffer|fixed_queue|perf|worker)|buffer|util)/],
  ['other node internals', /^node:/],
];

/** Built-ins without a url that are worth their own line; the others go to their caller's area. */
const namedBuiltins: readonly (readonly [string, RegExp])[] = [
  ['JSON (parse/stringify)', /^(parse|stringify|JSONParse|JSONStringify)$/],
];

function areaOfUrl(url: string): string | undefined {
  return areas.find(([, pattern]) => !pattern.source.startsWith('^name:') && pattern.test(url))?.[0];
}

/** A window of the profile, ms from its start; the whole profile when unset. */
export interface Window {
  readonly fromMs?: number;
  readonly toMs?: number;
}

/** Each sample's time, ms from the start of the profile. */
function sampleTimes(profile: CpuProfile): number[] {
  let at = 0;
  return profile.timeDeltas.map((delta) => (at += delta / 1_000));
}

/**
 * Busy ms in each second of the profile (every sample but idle ones).
 *
 * @example timeline(profile) // [412.5, 980.1, …]: the first second was 41% busy
 */
export function timeline(profile: CpuProfile): number[] {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  const busy: number[] = [];
  sampleTimes(profile).forEach((at, i) => {
    const second = Math.floor(at / 1_000);
    while (busy.length <= second) busy.push(0);
    if (!idle.has(profile.samples[i]!)) busy[second]! += (profile.timeDeltas[i] ?? 0) / 1_000;
  });
  return busy;
}

/** Per area and per function: self ms; per project function: inclusive ms. */
export function summarize(profile: CpuProfile, window: Window = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  const times = sampleTimes(profile);
  const { fromMs = 0, toMs = Infinity } = window;
  profile.samples.forEach((id, i) => {
    if (times[i]! >= fromMs && times[i]! < toMs) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1_000);
  });

  const byArea = new Map<string, number>();
  const areaInclusive = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    total += ms;
    const special = areas.find(([, pattern]) => pattern.source.startsWith('^name:') && pattern.test(`name:${frame.functionName}`))?.[0];
    let area = special ?? (frame.url ? areaOfUrl(frame.url) : namedBuiltins.find(([, pattern]) => pattern.test(frame.functionName))?.[0]);
    // A native leaf without a url counts for the first caller that has one.
    for (let up = parent.get(id); area === undefined && up !== undefined; up = parent.get(up)) {
      const url = byId.get(up)!.callFrame.url;
      if (url) area = areaOfUrl(url) ?? 'other';
    }
    area ??= 'other';
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    // Inclusive time of each area: a sample counts once for every area on its stack.
    const onStack = new Set<string>([area]);
    for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
      const url = byId.get(up)!.callFrame.url;
      const above = url ? areaOfUrl(url) : undefined;
      if (above) onStack.add(above);
    }
    for (const name of onStack) areaInclusive.set(name, (areaInclusive.get(name) ?? 0) + ms);
    const name = label(frame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    // Inclusive time of the project's own functions: each counted once per stack.
    const seen = new Set<string>();
    for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
      const caller = byId.get(up)!.callFrame;
      if (!/\/work\/[^/]+\/(src|flows)\//.test(caller.url) && !/^file:.*\/(src|flows)\//.test(caller.url)) continue;
      const key = label(caller);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, areas: sorted(byArea), areasInclusive: sorted(areaInclusive), functions: sorted(byFunction), inclusive: sorted(inclusive) };
}

/** `name file:line`; tsx-compiled files are on one line, so theirs is left out. */
function label(frame: CallFrame): string {
  const line = frame.url && frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}${line}`;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/').replace(/^\/work\/[^/]+\//, '');
}

function print(summary: ReturnType<typeof summarize>, top: number): void {
  const busy = summary.totalMs - (summary.areas.find(([area]) => area === 'idle')?.[1] ?? 0);
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(`busy ${(busy / 1_000).toFixed(2)} s of ${(summary.totalMs / 1_000).toFixed(2)} s profiled (percentages of busy time)\n`);
  console.log('self time by area');
  for (const [area, ms] of summary.areas) if (area !== 'idle') console.log(`  ${pct(ms)}  ${(ms / 1_000).toFixed(2).padStart(7)} s  ${area}`);
  console.log('\ninclusive time by area (a sample counts for every area on its stack)');
  for (const [area, ms] of summary.areasInclusive) if (area !== 'idle') console.log(`  ${pct(ms)}  ${(ms / 1_000).toFixed(2).padStart(7)} s  ${area}`);
  console.log(`\ntop ${top} functions by self time`);
  for (const [name, ms] of summary.functions.slice(0, top)) console.log(`  ${pct(ms)}  ${name}`);
  console.log(`\ntop ${top} project functions (src/, flows/) by inclusive time`);
  for (const [name, ms] of summary.inclusive.slice(0, top)) console.log(`  ${pct(ms)}  ${name}`);
}

if (isMain(import.meta.url)) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, from: { type: 'string' }, to: { type: 'string' }, timeline: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const seconds = (value: string | undefined) => (value === undefined ? undefined : Number(value) * 1_000);
  const window: Window = { ...(values.from !== undefined ? { fromMs: seconds(values.from) } : {}), ...(values.to !== undefined ? { toMs: seconds(values.to) } : {}) };
  if (positionals.length === 0 || Object.values(window).some((ms) => !Number.isFinite(ms) || ms < 0)) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--top 25] [--from <s>] [--to <s>] [--timeline]');
    process.exit(2);
  }
  for (const file of positionals) {
    if (positionals.length > 1) console.log(`\n== ${file}`);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    if (values.timeline) console.log(`busy ms per second: ${timeline(profile).map((ms) => Math.round(ms)).join(' ')}\n`);
    print(summarize(profile, window), Number(values.top));
  }
}
