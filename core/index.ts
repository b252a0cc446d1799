/**
 * The shared kernel's front door: the event and topic contract, the domain
 * vocabulary (findings, time zones, ids), configuration, clocks, errors,
 * logging, file modes, the login throttle, the audit trail and the store.
 *
 * core/ is the one folder other folders may also import file by file
 * (`../core/clock.js`): it is the ground floor every part stands on, and it
 * imports nothing of ours (docs/architecture.md, .dependency-cruiser.cjs).
 */
export * from './clock.js';
export * from './config.js';
export * from './errors.js';
export * from './events.js';
export * from './file-modes.js';
export * from './findings.js';
export * from './ids.js';
export * from './log-limiter.js';
export * from './logger.js';
export * from './login-throttle.js';
export * from './migrations.js';
export * from './scrypt-hash.js';
export * from './store.js';
export * from './time.js';
export { topicRoot, devicePrefix, eventTopic, heartbeatTopic, commandTopic, allEventsFilter, allHeartbeatsFilter, parseDeviceTopic, type DeviceTopic, type Channel as TopicChannel } from './topics.js';
export * from './trail.js';
// findings.ts and store.ts both name the same three severities; the finding's is the one meant.
export type { Severity } from './findings.js';
