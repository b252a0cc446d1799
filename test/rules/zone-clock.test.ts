import t, { type Test } from 'tap';
import { localTime } from '../../core/time.js';
import { ZoneClock } from '../../rules/rules/rule.js';

t.test('ZoneClock agrees with Intl every 7 minutes across DST changes and odd offsets', async (t) => {
  for (const tz of ['Asia/Tokyo', 'Europe/London', 'America/St_Johns', 'Australia/Lord_Howe', 'Pacific/Chatham']) {
    const zone = new ZoneClock(tz);
    let bad = 0;
    // Spring and autumn changes in both hemispheres fall inside these spans.
    for (const start of [Date.parse('2026-03-27T00:00:00Z'), Date.parse('2026-04-03T00:00:00Z'), Date.parse('2026-10-23T00:00:00Z'), Date.parse('2026-11-01T00:00:00Z')]) {
      for (let at = start; at < start + 4 * 86_400_000; at += 7 * 60_000 + 13_000) {
        if (zone.minuteOfDay(at) !== localTime(at, tz).minuteOfDay) bad++;
      }
    }
    t.equal(bad, 0, tz);
  }
});

const H = 3_600_000;

/**
 * Asks `landing` for each of `minutes` at instants 37 min 11 s apart across
 * both clock changes in four zones, and counts the landings `wrong` refuses.
 */
function checkLandings(t: Test, minutes: number[], landing: (zone: ZoneClock, at: number, ms: number) => number, wrong: (zone: ZoneClock, at: number, landed: number, ms: number) => boolean): void {
  for (const tz of ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Tokyo']) {
    const zone = new ZoneClock(tz);
    let bad = 0, checked = 0;
    for (const start of [Date.parse('2026-03-06T00:00:00Z'), Date.parse('2026-03-27T00:00:00Z'), Date.parse('2026-04-03T00:00:00Z'), Date.parse('2026-10-23T00:00:00Z'), Date.parse('2026-11-01T00:00:00Z')]) {
      for (let at = start; at < start + 4 * 86_400_000; at += 37 * 60_000 + 11_000) {
        for (const minute of minutes) {
          checked++;
          if (wrong(zone, at, landing(zone, at, minute * 60_000), minute * 60_000)) bad++;
        }
      }
    }
    t.equal(bad, 0, `${tz}: ${checked} landings`);
  }
}

t.test('nextAt lands on the local time asked for, across clock changes', async (t) => {
  checkLandings(t, [0, 7 * 60, 22 * 60, 23 * 60 + 30], (zone, at, ms) => zone.nextAt(at, ms), (zone, at, next, ms) => {
    // It is later, lands on that local minute, and no earlier instant after `at` does (checked every minute between).
    if (next <= at || next - at > 26 * H || zone.msOfDay(next) !== ms) return true;
    for (let x = next - 60_000; x > at; x -= 60_000) if (zone.msOfDay(x) === ms) return true;
    return false;
  });
  // 02:30 does not exist in New York on 8 March 2026: the landing past the skipped hour is kept.
  const ny = new ZoneClock('America/New_York');
  t.equal(ny.nextAt(Date.parse('2026-03-08T01:00:00-05:00'), 150 * 60_000), Date.parse('2026-03-08T03:30:00-04:00'));
});

t.test('lastAt finds the last instant at or before a time showing the local time asked for, across clock changes', async (t) => {
  checkLandings(t, [0, 4 * 60, 7 * 60, 23 * 60 + 30], (zone, at, ms) => zone.lastAt(at, ms), (zone, at, last, ms) => {
    // At or before `at`, on that local minute, and no later instant up to `at` is (checked every minute between).
    if (last > at || at - last > 26 * H || zone.msOfDay(last) !== ms) return true;
    for (let x = last + 60_000; x <= at; x += 60_000) if (zone.msOfDay(x) === ms) return true;
    return false;
  });
});
