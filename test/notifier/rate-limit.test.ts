/** The in-memory per-person message budget of a single hub. */
import t from 'tap';
import { createRateLimiter } from '../../notifier/index.js';
import { rateLimitContract } from './rate-limit-contract.js';

rateLimitContract(t, 'in memory', async (_t, opts) => createRateLimiter(opts));
