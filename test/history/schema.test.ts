import t from 'tap';
import { activityHourlyCq, backfillActivityHourly, ensureSchema, readingLine } from '../../history/influx-schema.js';
import { baseTime, client, motion, startInflux, tempDir } from './fixtures/helpers.js';

const database = 'mimamori_schema';

t.test('ensureSchema creates the database, retention policies and continuous query, idempotently', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const influx = client(influxd.url, database);
  await ensureSchema(influx, database);
  await ensureSchema(influx, database);

  t.ok((await influx.getDatabaseNames()).includes(database));
  const rps = await influx.showRetentionPolicies(database);
  const raw = rps.find((r) => r.name === 'raw');
  const rollup = rps.find((r) => r.name === 'rollup');
  t.match(raw, { duration: '2160h0m0s', default: true }, 'raw: 90 days, default');
  t.match(rollup, { duration: '17520h0m0s', default: false }, 'rollup: 730 days');
  const cqs = await influx.showContinousQueries(database);
  t.equal(cqs.length, 1, 'one continuous query after two runs');
  t.equal(cqs[0]?.name, activityHourlyCq);
  t.match(cqs[0]?.query, /RESAMPLE EVERY 1h FOR 1d/);
  t.match(cqs[0]?.query, /count\(id\) AS events INTO mimamori_schema\.rollup\.activity_hourly FROM mimamori_schema\.raw\.event GROUP BY time\(1h\), home/);

  // Someone changed things by hand: ensureSchema puts them back.
  await influx.alterRetentionPolicy('raw', { database, duration: '1d', replication: 1, isDefault: false });
  await influx.dropContinuousQuery(activityHourlyCq, database);
  await influx.createContinuousQuery(activityHourlyCq, `SELECT count("id") INTO "${database}"."rollup"."old" FROM "${database}"."raw"."event" GROUP BY time(1h)`, database);
  await ensureSchema(influx, database);
  t.match((await influx.showRetentionPolicies(database)).find((r) => r.name === 'raw'), { duration: '2160h0m0s', default: true });
  const fixed = await influx.showContinousQueries(database);
  t.equal(fixed.length, 1);
  t.match(fixed[0]?.query, /activity_hourly/);
});

t.test('the hourly activity rollup counts events per home per hour', async (t) => {
  const influxd = await startInflux(t, tempDir(t));
  const influx = client(influxd.url, database);
  await ensureSchema(influx, database);
  // home-1: 3 events in the first hour, 2 in the second; home-2: 1 in the first.
  const at = (hour: number, minute: number) => baseTime + hour * 3600_000 + minute * 60_000;
  const events = [
    { ...motion(1), at: at(0, 1) }, { ...motion(2), at: at(0, 20) }, { ...motion(3), at: at(0, 59) },
    { ...motion(4), at: at(1, 5) }, { ...motion(5), at: at(1, 6) },
    { ...motion(6, 'home-2'), at: at(0, 30) },
  ];
  const res = await fetch(`${influxd.url}/write?db=${database}&rp=raw&precision=n`, { method: 'POST', body: events.map(readingLine).join('\n') });
  t.equal(res.status, 204);
  await backfillActivityHourly(influx, database, baseTime, baseTime + 2 * 3600_000);
  const rows = await influx.query<{ time: Date; home: string; events: number }>(`SELECT "events", "home" FROM "rollup"."activity_hourly" ORDER BY time`);
  const got = rows.map((r) => `${r.home}@${(r.time.getTime() - baseTime) / 3600_000}h=${r.events}`).sort();
  t.same(got, ['home-1@0h=3', 'home-1@1h=2', 'home-2@0h=1']);
});
