/**
 * helpButton: a "help" press raises a critical finding at once; an "ok"
 * press ("I'm OK") clears it. A help press while raised is raised again,
 * marked `again`: the notifier counts it on an alert still paging, and pages
 * afresh when someone had already acknowledged (a new cry for help).
 * Once its alert has ended (a family member resolved it), the rule re-arms:
 * the next press is a new cry for help and raises again, with no "I'm OK" needed.
 */
import type { Reading } from '../../core/events.js';
import type { HomeState } from '../home-state.js';
import type { HelpButtonRule } from '../rule-config.js';
import { clear, finding, forget, hhmm, raise, type RuleContext, type RuleDefinition } from './rule.js';

type ButtonReading = Extract<Reading, { kind: 'button' }>;

/**
 * A press. Apart from `onReading` so that the closures below (which capture the
 * reading) cost a context allocation only on a press, not on every reading of the home.
 */
function onPress(rule: HelpButtonRule, home: HomeState, r: ButtonReading, ctx: RuleContext): boolean {
  const at = hhmm(r.at, home.rules.zone);
  if (r.press === 'help') {
    const pressed = (again: boolean) => finding(home, rule, ctx.now, 'raised', 'critical', 'family', {
      message: { en: `Help button pressed at ${at}`, ja: `${at} に緊急ボタンが押されました` },
      expected: { en: 'The help button is pressed only when help is needed; "I\'m OK" clears it.', ja: '緊急ボタンは助けが必要なときだけ押されます。「大丈夫」ボタンで解除されます。' },
      observed: { en: `Help button on device ${r.device} pressed at ${at}.`, ja: `${at} に機器 ${r.device} の緊急ボタンが押されました。` },
    }, again ? { device: r.device, data: { again: true } } : { device: r.device });
    if (!raise(home, rule.id, ctx, pressed(false))) ctx.out.push(pressed(true));
    return false;
  }
  return clear(home, rule.id, ctx, (was) => finding(home, rule, ctx.now, 'cleared', was, 'family', {
    message: { en: `"I'm OK" pressed at ${at}`, ja: `${at} に「大丈夫」ボタンが押されました` },
    expected: { en: '"I\'m OK" after a help call means the resident is all right.', ja: '緊急通報の後の「大丈夫」は、本人が無事であることを示します。' },
    observed: { en: `"I'm OK" on device ${r.device} at ${at}.`, ja: `${at} に機器 ${r.device} で「大丈夫」が押されました。` },
  }, { device: r.device }));
}

export const helpButton: RuleDefinition<HelpButtonRule> = {
  onReading(rule: HelpButtonRule, home: HomeState, r: Reading, ctx: RuleContext): boolean {
    return r.kind === 'button' ? onPress(rule, home, r, ctx) : false;
  },
  onTick(): void { /* nothing time-based */ },
  nextDeadline(): number { return Infinity; },
  rearm(rule: HelpButtonRule, home: HomeState): boolean { return forget(home, rule.id); },
};
