/**
 * rules/ front door: the RxJS rule engine, its rule-set schema and replay.
 */
export { createRuleEngine, type RuleEngine, type RuleEngineOptions } from './engine.js';
export { defaultRules, parseRuleSet, ruleTypes, type RuleConfig, type RuleError, type ParsedRuleSet, type RuleType } from './rule-config.js';
export { replayReadings, findingToNdjson, type ReplayOptions } from './replay.js';
export { dataLateRule, defaultWatermarkSettings, type WatermarkSettings } from './watermark.js';
