/**
 * deviceSilent: a device the hub has heard from sends nothing — not even a
 * heartbeat — for `afterMinutes` → warning for the operator. This is device
 * health: it never says "no activity", and it does not touch the
 * no-sign-of-life clock (which runs from the last real sign of life).
 */
import type { Reading } from '../../core/events.js';
import type { HomeState } from '../home-state.js';
import type { DeviceSilentRule } from '../rule-config.js';
import { clear, duration, finding, hhmm, raise, type RuleContext, type RuleDefinition } from './rule.js';

const minute = 60_000;
const keyOf = (rule: DeviceSilentRule, device: string): string => `${rule.id}/${device}`;

export const deviceSilent: RuleDefinition<DeviceSilentRule> = {
  onReading(rule: DeviceSilentRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    if (home.active === undefined) return false;
    const tz = home.rules.zone;
    return clear(home, keyOf(rule, r.device), ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'operator', {
      message: { en: `Sensor ${r.device} is reporting again (device health)`, ja: `センサー ${r.device} の通信が復旧しました（機器の状態）` },
      expected: { en: `Every sensor reports at least every ${rule.afterMinutes} minutes.`, ja: `各センサーが少なくとも${rule.afterMinutes}分ごとに通信すること。` },
      observed: { en: `Heard from ${r.device} at ${hhmm(r.at, tz)}.`, ja: `${hhmm(r.at, tz)} に ${r.device} から通信がありました。` },
    }, { device: r.device }));
  },

  onTick(rule: DeviceSilentRule, home: HomeState, ctx: RuleContext): void {
    const tz = home.rules.zone;
    for (const [device, d] of home.devices) {
      if (ctx.now < d.lastSeen + rule.afterMinutes * minute) continue;
      const silent = duration(ctx.now - d.lastSeen);
      raise(home, keyOf(rule, device), ctx, finding(home, rule, ctx.now, 'raised', 'warning', 'operator', {
        message: { en: `Sensor ${device} has not reported for ${silent.en} (device health: offline or flat battery?)`, ja: `センサー ${device} から${silent.ja}通信がありません（機器の状態：電源・電池・通信を確認してください）` },
        expected: { en: `Every sensor reports (at least a heartbeat) every ${rule.afterMinutes} minutes.`, ja: `各センサーが少なくとも${rule.afterMinutes}分ごとに死活通知を送ること。` },
        observed: { en: `Last message from ${device} at ${hhmm(d.lastSeen, tz)}.`, ja: `${device} からの最後の通信は ${hhmm(d.lastSeen, tz)} です。` },
      }, { device, data: { lastSeen: d.lastSeen, afterMinutes: rule.afterMinutes } }));
    }
  },

  nextDeadline(rule: DeviceSilentRule, home: HomeState, _now: number): number {
    let due = Infinity;
    for (const [device, d] of home.devices) {
      if (home.active !== undefined && home.active.has(keyOf(rule, device))) continue;
      due = Math.min(due, d.lastSeen + rule.afterMinutes * minute);
    }
    return due;
  },
};
