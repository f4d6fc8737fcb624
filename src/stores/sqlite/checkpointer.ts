import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The checkpointer's thread: its own connection to the file, running PASSIVE checkpoints
 * (copying committed WAL frames into the database file) without taking the write lock.
 * After one that copied something it goes again `busyMs` later, otherwise after `idleMs`:
 * often enough to keep the log far below the writer's backstop, seldom enough that a page
 * the writer changes again and again is copied (and the file synced) once per round, not
 * once per commit.
 *
 * Under steady writes a PASSIVE round never copies the whole log (the writer has added
 * frames meanwhile), and SQLite starts the log afresh only when it was copied whole: the
 * log would grow until the writer's backstop checkpoints it on the event loop, which with a
 * million customers stored stalled the server 100 to 250 ms every second. So once the log
 * holds `restartPages`, the thread copies what the round left under the write lock
 * (RESTART, waiting up to `lockWaitMs` for it), a few milliseconds, and the writer's next
 * transaction starts at the log's beginning; the writer waits for the lock off the event
 * loop (see TickWriter). Plain CommonJS in a string, so it runs the same under tsx and
 * compiled, and loads only the driver.
 */
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
let timer;
let copied = -1;
const tick = () => {
  let progressed = false;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    progressed = result.checkpointed > 0 && result.checkpointed !== copied;
    copied = result.checkpointed;
    if (result.log >= workerData.restartPages) {
      db.pragma('busy_timeout = ' + workerData.lockWaitMs);
      try {
        const [restarted] = db.pragma('wal_checkpoint(RESTART)');
        if (restarted.busy === 0) copied = -1;
      } finally {
        db.pragma('busy_timeout = 0');
      }
    }
  } catch {
    // Busy or failing: the writer's own checkpoints (wal_autocheckpoint) still bound the WAL.
  }
  timer = setTimeout(tick, progressed ? workerData.busyMs : workerData.idleMs);
};
timer = setTimeout(tick, workerData.idleMs);
parentPort.once('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** A running checkpointer thread. */
export interface Checkpointer {
  /** Stops the thread and closes its connection. */
  close(): Promise<void>;
}

/**
 * Starts checkpointing the WAL of the SQLite file at `path` on a thread of its own. A
 * checkpoint writes every page the recent commits changed back into the database file
 * (and syncs it); inline, SQLite runs it in the commit that crosses `wal_autocheckpoint`,
 * on the event loop: with a million stored customers that was a sixth of the server's
 * time. The writer keeps a higher `wal_autocheckpoint` as a backstop, which then finds
 * little left to copy.
 * @example const checkpointer = startCheckpointer('./data/orderly.db'); await checkpointer.close();
 */
export function startCheckpointer(path: string, { busyMs = 100, idleMs = 500, restartPages = 2_000, lockWaitMs = 50 } = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(source, { eval: true, workerData: { driver, path, busyMs, idleMs, restartPages, lockWaitMs } });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  // A thread that failed leaves the backstop checkpoints to the writer: never an error here.
  worker.on('error', () => undefined);
  worker.unref();
  return {
    async close() {
      if (exited) return;
      worker.postMessage('close');
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
