/**
 * The learned-routine rule definitions, bound to one engine's routine book.
 */
import type { RoutineBook } from '../baseline-book.js';
import type { AwayContextRule, RoutineMissedRule, RoutineTrendRule, UnusualInactivityRule, UnusualNightActivityRule } from '../rule-config.js';
import type { RuleDefinition } from './rule.js';
import { awayContext } from './routine-away.js';
import { unusualInactivity } from './routine-inactivity.js';
import { routineMissed } from './routine-missed.js';
import { unusualNightActivity } from './routine-night.js';
import { routineTrend } from './routine-trend.js';

export interface RoutineDefinitions {
  routineMissed: RuleDefinition<RoutineMissedRule>;
  unusualInactivity: RuleDefinition<UnusualInactivityRule>;
  unusualNightActivity: RuleDefinition<UnusualNightActivityRule>;
  routineTrend: RuleDefinition<RoutineTrendRule>;
  awayContext: RuleDefinition<AwayContextRule>;
}

/** One definition per learned rule type, reading `book`. */
export function routineDefinitions(book: RoutineBook): RoutineDefinitions {
  return {
    routineMissed: routineMissed(book), unusualInactivity: unusualInactivity(book), unusualNightActivity: unusualNightActivity(book),
    routineTrend: routineTrend(book), awayContext: awayContext(book),
  };
}
