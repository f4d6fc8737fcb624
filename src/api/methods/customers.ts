import { EngineError } from '../../core/errors.js';
import { defineMethod } from '../method.js';
import { findCustomerSchema } from '../schemas.js';
import { customerView, customerViewSchema } from '../views.js';

/** `findCustomer`: a customer by channel and external id. */
export const findCustomer = defineMethod({
  summary: "A customer by their channel and their id on it (the first one, when they wrote to several of the shop's accounts).",
  input: findCustomerSchema,
  output: customerViewSchema,
  run: async ({ channel, external_id }, { engine }) => {
    const customer = await engine.store.findCustomer({ channel, user: external_id });
    // The id is not echoed: on WhatsApp it is a phone number, and refusals are logged.
    if (!customer) throw new EngineError('NOT_FOUND', `no customer with that external_id on ${channel}`);
    return customerView(customer);
  },
});
