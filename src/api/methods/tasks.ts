import { EngineError } from '../../core/errors.js';
import { taskStatus, type Store, type TaskRecord } from '../../core/store.js';
import { defineMethod } from '../method.js';
import { addTaskSchema, getTaskSchema, removeTaskSchema } from '../schemas.js';
import { taskIdSchema, taskView, taskViewSchema } from '../views.js';

async function mustFindTask(store: Store, id: number): Promise<TaskRecord> {
  const task = await store.getTask(id);
  if (!task) throw new EngineError('NOT_FOUND', `task ${id} not found`);
  return task;
}

/** Why a task can no longer be removed. */
function tooLate(task: TaskRecord): string {
  if (task.status === taskStatus.removed) return `task ${task.id} was removed`;
  if (task.status === taskStatus.failed) return `task ${task.id} already ran (and failed)`;
  return `task ${task.id} already ran`;
}

/** `addTask`: stores the task and wakes the scheduler. */
export const addTask = defineMethod({
  summary: "Schedules a command in a customer's conversation at a time (Unix seconds), as if the customer had sent it.",
  input: addTaskSchema,
  output: taskIdSchema,
  run: async ({ user_id, command, timestamp }, { engine, requestId, caller, logger }) => {
    const customer = await engine.store.getCustomer(user_id);
    if (!customer) throw new EngineError('NOT_FOUND', `customer ${user_id} not found`);
    const task = await engine.store.addTask({ customer: customer.address, command, dueAt: timestamp * 1_000 });
    await engine.tasksChanged();
    logger.info({ requestId, caller: caller.name, taskId: task.id, userId: user_id, dueAt: timestamp }, 'task added');
    return { id: task.id };
  },
});

/** `removeTask`: only while it waits and has not fired. */
export const removeTask = defineMethod({
  summary: 'Removes a task that has not run yet (409 once it ran or was removed).',
  input: removeTaskSchema,
  output: taskViewSchema,
  run: async ({ id }, { engine }) => {
    const task = await mustFindTask(engine.store, id);
    if (task.status !== taskStatus.waiting || task.firedAt !== undefined) throw new EngineError('CONFLICT', tooLate(task));
    if (!(await engine.store.removeTask(id))) throw new EngineError('CONFLICT', tooLate(await mustFindTask(engine.store, id)));
    return taskView(await mustFindTask(engine.store, id));
  },
});

/** `getTask`: status and time it ran. */
export const getTask = defineMethod({
  summary: 'A task: status 0 waiting, 1 done, 2 removed, 3 failed, and when it ran.',
  input: getTaskSchema,
  output: taskViewSchema,
  run: async ({ id }, { engine }) => taskView(await mustFindTask(engine.store, id)),
});
