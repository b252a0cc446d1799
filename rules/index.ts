/**
 * rules/ front door: the RxJS rule engine, its rule-set schema and replay.
 */
export { createRuleEngine, type RuleEngine, type RuleEngineOptions } from './engine.js';
export { defaultRules, parseRuleSet, ruleTypes, type RuleConfig, type RuleError, type ParsedRuleSet, type RuleType } from './rule-config.js';
export { replayReadings, findingToNdjson, type ReplayOptions } from './replay.js';
export { dataLateRule, defaultWatermarkSettings, type WatermarkSettings } from './watermark.js';
export { fixedRules, isValidTimeZone, learnedRuleTypes } from './rule-config.js';
export { createRoutineBook } from './baseline-book.js';
export { Applied, applyReading, createHomeState, type HomeRules, type HomeState } from './home-state.js';
export { ZoneClock } from './rules/rule.js';
export { outingHoursOffered } from './rules/routine-marks.js';
export { checkTargets, evaluateReadings, formatReport, parseTruth, type ModeScore } from './evaluate.js';
export { buildCorpus, evaluateCorpus } from './evaluate-corpus.js';
export { buildMessyCorpus, messyKinds, type MessyCorpus } from './evaluate-messy-corpus.js';
export { checkRecordingTargets, evaluateRecordings, formatRecordingsReport, homeRuleSet, type RecordedHome } from './evaluate-recordings.js';
