import type { ApiMethod } from '../method.js';
import { findCustomer } from './customers.js';
import { getMessage, listMessages, retryNotifications } from './messages.js';
import { getOrder, listOrders, paidOrder, updateOrderStatus } from './orders.js';
import { addTask, getTask, removeTask } from './tasks.js';

/** The merchant API's methods by name: `POST /api/v1/<name>`. The router and the OpenAPI document read this table. */
export const merchantMethods: Readonly<Record<string, ApiMethod>> = {
  getOrder,
  listOrders,
  updateOrderStatus,
  paidOrder,
  findCustomer,
  addTask,
  removeTask,
  getTask,
  getMessage,
  listMessages,
  retryNotifications,
};
