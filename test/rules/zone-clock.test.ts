import t from 'tap';
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
