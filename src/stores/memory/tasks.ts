import type { Address } from '../../core/ids.js';
import { taskStatus, type TaskRecord } from '../../core/store.js';
import { prunedFromMap, type TablePruned } from '../prune.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type TaskRow = Mutable<TaskRecord> & { readonly createdAt: number };

/**
 * The memory store's scheduled tasks. A task is armed from when it is added until it fires,
 * is removed or is done; only armed tasks come due.
 * @example
 * const tasks = new MemoryTasks();
 * tasks.add(customer, 'remind', Date.now() + 60_000, Date.now());
 */
export class MemoryTasks {
  #last = 0;
  readonly #rows = new Map<number, TaskRow>();
  readonly #armed = new Set<number>();

  add(customer: Address, command: string, dueAt: number, at: number): TaskRecord {
    const id = ++this.#last;
    const row: TaskRow = { id, customer: { ...customer }, command, dueAt, createdAt: at, status: taskStatus.waiting };
    this.#rows.set(id, row);
    this.#armed.add(row.id);
    return toTask(row);
  }

  /** The task a commit handled becomes done, if it is still waiting. */
  complete(id: number, at: number): void {
    const done = this.#rows.get(id);
    if (done && done.status === taskStatus.waiting) {
      done.status = taskStatus.done;
      done.doneAt = at;
      this.#armed.delete(done.id);
    }
  }

  /** Removes a task that has not fired; answers false when it is gone or already ran. */
  remove(id: number): boolean {
    const row = this.#rows.get(id);
    if (!row || !this.#armed.has(id)) return false;
    row.status = taskStatus.removed;
    this.#armed.delete(id);
    return true;
  }

  /** `pruneHistory` of the tasks: those that ran, failed or were removed before `before`. */
  prune(after: number, before: number, limit: number): TablePruned {
    return prunedFromMap(
      this.#rows,
      { after, before, limit },
      (row) => row.createdAt,
      (row) => row.status !== taskStatus.waiting && (row.doneAt ?? row.createdAt) < before,
    );
  }

  get(id: number): TaskRecord | null {
    const row = this.#rows.get(id);
    return row === undefined ? null : toTask(row);
  }

  /** Marks the tasks due by `now` fired, in due order, up to `limit`; answers them as they were when due. */
  fire(now: number, limit: number): TaskRecord[] {
    const due = [...this.#armed]
      .map((id) => this.#rows.get(id)!)
      .filter((task) => task.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
      .slice(0, Math.max(0, limit));
    return due.map((task) => {
      const record = toTask(task);
      task.firedAt = now;
      this.#armed.delete(task.id);
      return record;
    });
  }

  /** The due time of the earliest armed task. */
  next(): number | null {
    let next: number | null = null;
    for (const id of this.#armed) {
      const { dueAt } = this.#rows.get(id)!;
      if (next === null || dueAt < next) next = dueAt;
    }
    return next;
  }
}

function toTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    customer: { ...row.customer },
    command: row.command,
    dueAt: row.dueAt,
    status: row.status,
    ...(row.firedAt === undefined ? {} : { firedAt: row.firedAt }),
    ...(row.doneAt === undefined ? {} : { doneAt: row.doneAt }),
  };
}
