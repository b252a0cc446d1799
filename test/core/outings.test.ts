/**
 * Outings from the front door and motion (core/outings.ts) as the sensors
 * report them: the door opens and closes behind her, the living-room sensor
 * clears a few minutes after she left, and both happen again when she comes
 * back (edge/resident-day.ts renders a day-care trip exactly so).
 */
import t from 'tap';
import { findOutings, type Move } from '../../core/outings.js';

const at = (time: string) => Date.parse(`2026-11-21T${time.length === 5 ? `${time}:00` : time}+09:00`);
const motion = (hhmm: string, active: boolean): Move => ({ at: at(hhmm), kind: 'motion', active });
const door = (hhmm: string, active: boolean): Move => ({ at: at(hhmm), kind: 'door', active });

t.test('a trip out and back: one outing from the door opening to the door opening again', async (t) => {
  const trip = [
    motion('09:57', true), door('10:00', true), door('10:00:30', false),
    motion('10:03', false), // the sensor clears after she left: not her moving inside
    door('15:30', true), door('15:30:30', false), motion('15:31', true), motion('15:40', false),
  ];
  t.same(findOutings(trip, at('20:00')), [{ from: at('10:00'), to: at('15:30') }]);
});

t.test('a door left open while she is out; a quick look outside is no outing; still out at the end', async (t) => {
  t.same(findOutings([door('02:10', true), door('03:00', false), motion('03:01', true)], at('08:00')), [{ from: at('02:10'), to: at('03:00') }], 'out 2:10–3:00');
  t.same(findOutings([door('13:00', true), door('13:01', false), motion('13:02', true)], at('20:00')), [], 'a quick door with her moving right after');
  t.same(findOutings([motion('09:50', true), door('10:00', true), door('10:01', false), motion('10:04', false)], at('12:00')), [{ from: at('10:00') }], 'gone since 10:00');
});

t.test('events without a state (older callers) count every motion as movement', async (t) => {
  t.same(findOutings([{ at: at('10:00'), kind: 'door' }, { at: at('15:00'), kind: 'door' }, { at: at('15:02'), kind: 'motion' }], at('20:00')), [{ from: at('10:00'), to: at('15:00') }]);
});
