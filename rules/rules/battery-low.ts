/**
 * batteryLow: a heartbeat reports battery below `belowPercent` → warning for
 * the operator; cleared once it reads at least `belowPercent + 5` (the gap
 * stops a battery hovering at the threshold from flapping).
 */
import type { Reading } from '../../core/events.js';
import type { HomeState } from '../home-state.js';
import type { BatteryLowRule } from '../rule-config.js';
import { clear, finding, raise, type RuleContext, type RuleDefinition } from './rule.js';

const keyOf = (rule: BatteryLowRule, device: string): string => `${rule.id}/${device}`;

const expectedOf = (rule: BatteryLowRule) => ({ en: `Battery at ${rule.belowPercent}% or more.`, ja: `電池残量が${rule.belowPercent}%以上であること。` });

/** Clears the device's finding. Apart from `onReading`: its closure costs an allocation only here, not on every heartbeat. */
function clearLow(rule: BatteryLowRule, home: HomeState, device: string, battery: number, ctx: RuleContext): boolean {
  return clear(home, keyOf(rule, device), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'operator', {
    message: { en: `Battery on sensor ${device} is fine again: ${battery}%`, ja: `センサー ${device} の電池残量が回復しました：${battery}%` },
    expected: expectedOf(rule),
    observed: { en: `Sensor ${device} reported ${battery}% battery.`, ja: `センサー ${device} の電池残量は${battery}%です。` },
  }, { device, data: { battery } }));
}

export const batteryLow: RuleDefinition<BatteryLowRule> = {
  onReading(rule: BatteryLowRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    if (r.kind !== 'heartbeat' || r.battery === undefined) return false;
    const battery = r.battery;
    if (battery < rule.belowPercent) {
      raise(home, keyOf(rule, r.device), ctx, finding(home, rule, ctx.now, 'raised', 'warning', 'operator', {
        message: { en: `Battery low on sensor ${r.device}: ${battery}%`, ja: `センサー ${r.device} の電池残量が少なくなっています：${battery}%` },
        expected: expectedOf(rule),
        observed: { en: `Sensor ${r.device} reported ${battery}% battery.`, ja: `センサー ${r.device} の電池残量は${battery}%です。` },
      }, { device: r.device, data: { battery, belowPercent: rule.belowPercent } }));
      return false;
    }
    if (battery < rule.belowPercent + 5 || home.active === undefined) return false;
    return clearLow(rule, home, r.device, battery, ctx);
  },
  onTick(): void { /* battery is judged when a heartbeat arrives */ },
  nextDeadline(): number { return Infinity; },
};
