/**
 * The jobs front door: the one durable, leased scheduler that escalation
 * steps, digests and check-in timers run on (docs/scale.md, "Jobs").
 */
export { createJobScheduler, retryDelay, type HomeOwnership, type JobHandler, type JobRun, type JobScheduler, type JobSchedulerOptions } from './scheduler.js';
export type { HomeFence, Job, JobRequest, JobStore } from '../core/store-ports.js';
