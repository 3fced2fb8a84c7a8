// The registry: every tool the server offers, in the order clients list them.
import { cancelCheckout } from './cancel_checkout.js';
import { completeCheckout } from './complete_checkout.js';
import { createCheckout } from './create_checkout.js';
import { getCheckout } from './get_checkout.js';
import { updateCheckout } from './update_checkout.js';

export const tools = [
  createCheckout,
  updateCheckout,
  completeCheckout,
  getCheckout,
  cancelCheckout,
];
