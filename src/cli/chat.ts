import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { clearLine, createInterface, cursorTo } from 'node:readline';
import type { Choice } from '../core/outbound.js';
import type { ChatBatch, ChatInput, ChatTransport } from './chat-transport.js';
import { renderMessages } from './render.js';

/** What `runChat` talks through, as whom, and on which terminal. */
export interface ChatOptions {
  readonly transport: ChatTransport;
  /** A customer id to talk as; otherwise the saved session's, or a new one. */
  readonly user?: string;
  /** Where the session's customer id is kept between runs. */
  readonly sessionFile: string;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Reads the saved customer id, if there is a usable one. */
async function savedUser(file: string): Promise<string | undefined> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as { user?: unknown };
    return typeof data.user === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(data.user) ? data.user : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A terminal chat with the shop as a customer: each line is sent as a text, a number picks
 * the button or quick reply shown with it, replies arrive by long polling. Ends on `/quit`,
 * Ctrl+C or the end of the input (after the last replies came in).
 * @example
 * await runChat({ transport: httpTransport('http://localhost:3000'), sessionFile: 'data/chat-session.json' });
 */
export async function runChat(options: ChatOptions): Promise<void> {
  const { transport } = options;
  const output = options.output ?? process.stdout;
  const print = (line: string) => output.write(`${line}\n`);

  let user = options.user;
  let returning = user !== undefined;
  if (!user) {
    user = await savedUser(options.sessionFile);
    returning = user !== undefined;
    if (!user) {
      user = await transport.newUser();
      await mkdir(dirname(options.sessionFile), { recursive: true });
      await writeFile(options.sessionFile, `${JSON.stringify({ user }, null, 2)}\n`);
    }
  }
  const me = user;

  // A returning customer does not get the whole history again: start after it.
  let cursor = 0;
  if (returning) {
    for (let batch = await transport.poll(me, 0, 0, new AbortController().signal); batch.messages.length > 0; ) {
      cursor = batch.cursor;
      batch = await transport.poll(me, cursor, 0, new AbortController().signal);
    }
  }

  print(`Chatting with ${transport.label} as customer ${me}${returning ? ' (welcome back)' : ''}.`);
  print('Type a message, or the number of a choice; /quit leaves.');

  const rl = createInterface({ input: options.input ?? process.stdin, output, prompt: 'you> ', terminal: output.isTTY === true });
  const interactive = output.isTTY === true;
  let choices: Choice[] = [];
  let newBatch = true;
  let lastSeen = 0;

  const show = (batch: ChatBatch) => {
    if (batch.messages.length === 0) return;
    if (interactive) {
      clearLine(output, 0);
      cursorTo(output, 0);
    }
    if (newBatch) choices = [];
    newBatch = false;
    for (const { message } of batch.messages) {
      const rendered = renderMessages([message], { firstNumber: choices.length + 1 });
      choices.push(...rendered.choices);
      rendered.lines.forEach((line, index) => print(`${index === 0 ? 'shop> ' : '      '}${line}`));
    }
    lastSeen = Date.now();
    if (interactive) rl.prompt(true);
  };

  const stop = new AbortController();
  const polling = (async () => {
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        const batch = await transport.poll(me, cursor, 20, stop.signal);
        cursor = batch.cursor;
        show(batch);
        failures = 0;
      } catch (error) {
        if (stop.signal.aborted) break;
        if (failures++ === 0) print(`(cannot reach the shop: ${(error as Error).message}; retrying)`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 * 2 ** failures)));
      }
    }
  })();

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let lastSent = 0;
  /** Waits for the shop's answer to what was just sent: its first message, then a quiet moment. */
  const answered = async () => {
    await transport.settled();
    for (const since = Date.now(); Date.now() - since < 5_000; await pause(50)) {
      if (lastSeen >= lastSent && Date.now() - lastSeen >= 300) return;
    }
  };

  let quit = false;
  rl.on('SIGINT', () => {
    quit = true;
    rl.close();
  });
  if (interactive) rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit' || text === '/exit') {
      quit = true;
      break;
    }
    const choice = /^\d{1,3}$/.test(text) ? choices[Number(text) - 1] : undefined;
    const input: ChatInput | undefined = choice ? { payload: choice.payload, title: choice.title } : text ? { text } : undefined;
    if (input) {
      newBatch = true;
      try {
        await transport.send(me, input, randomUUID());
        lastSent = Date.now();
      } catch (error) {
        print(`(not sent: ${(error as Error).message})`);
      }
      // A script's next line may pick a number from this answer: wait for it first.
      if (!interactive) await answered();
    }
    if (interactive) rl.prompt();
  }
  rl.close();
  if (!quit && !interactive) await answered();
  stop.abort();
  await polling;
  await transport.close();
}
