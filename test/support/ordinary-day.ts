/**
 * One ordinary day of home h1 in Tokyo, as readings for a real history: up at
 * 6:50, kettle at 7:12, out from 10:00 to 15:00, evening in the living room
 * (7 events). The monthly report's tests (non-browser and browser) feed a
 * month of these.
 */
import type { Reading } from '../../core/events.js';
import { toLocalIso } from '../../core/time.js';

const tz = 'Asia/Tokyo';
/** An instant of a local date and time in Tokyo. */
export const tokyo = (date: string, hhmm: string) => Date.parse(`${date}T${hhmm}:00+09:00`);

export function ordinaryDay(date: string): Reading[] {
  const e = (device: string, hhmm: string) => ({ home: 'h1', device, id: `${device}-${date}-${hhmm}`, ts: toLocalIso(tokyo(date, hhmm), tz), at: tokyo(date, hhmm) });
  return [
    { ...e('motion-bedroom', '06:50'), kind: 'motion', occupied: true, room: 'bedroom' },
    { ...e('kettle', '07:12'), kind: 'kettle', state: 'on', watts: 1200 },
    { ...e('kettle', '07:16'), kind: 'kettle', state: 'off' },
    { ...e('front-door', '10:00'), kind: 'door', open: true, door: 'front' },
    { ...e('front-door', '15:00'), kind: 'door', open: true, door: 'front' },
    { ...e('motion-living', '15:02'), kind: 'motion', occupied: true, room: 'living' },
    { ...e('motion-living', '21:30'), kind: 'motion', occupied: true, room: 'living' },
  ];
}
