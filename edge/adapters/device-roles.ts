/**
 * Gives native facts their meaning in the home: a plug's watts become
 * "kettle on/off" (with hysteresis), a contact becomes a door, a pulse
 * counter becomes water flowing. State-like signals are sent when they
 * change (and once when first seen), so a zigbee2mqtt state repeated with a
 * new battery level does not invent a second door opening.
 */
import type { DeviceEvent } from '../../core/events.js';
import type { MappedDevice } from './device-map.js';
import type { NativeFact } from './native-facts.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A canonical event before the bridge gives it an id and a time. */
export type EventBody = DistributiveOmit<DeviceEvent, 'id' | 'ts'>;

/** What the bridge remembers per device between messages (and across its own restarts). */
export interface RoleState {
  kettle?: 'on' | 'off';
  watts?: number;
  open?: boolean;
  occupied?: boolean;
  motionAt?: number;
  flowing?: boolean;
  counter?: { total: number; at: number };
  celsius?: number;
  humidity?: number;
  aircon?: 'on' | 'off';
  sentClimate?: string;
}

export interface Derived {
  events: EventBody[];
  /** Battery / radio readings carried by the message (for the next heartbeat). */
  battery?: number;
  rssi?: number;
  /** Set when the message said the device went online or offline. */
  online?: boolean;
  /** The facts the role had no use for (e.g. a kettle plug's temperature), for the operator's counters. */
  unused: number;
}

export const defaultKettleWatts = { on: 500, off: 50 };
export const defaultFlowLitres = { on: 0.5, off: 0.1 };
export const defaultMinDeltaWatts = 20;
export const defaultActions: Readonly<Record<string, 'help' | 'ok'>> = { single: 'help', hold: 'help', long: 'help', double: 'ok' };
/** A motion sensor that keeps reporting "occupied" is a sign of life again after this long. */
export const motionRepeatMs = 60_000;

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Turns one message's facts into canonical events for `device`, updating `state` in place. */
export function deriveEvents(device: MappedDevice, facts: readonly NativeFact[], state: RoleState, at: number): Derived {
  const out: Derived = { events: [], unused: 0 };
  let climateTouched = false;
  for (const f of facts) {
    switch (f.fact) {
      case 'battery': out.battery = f.percent; continue;
      case 'rssi': out.rssi = f.dbm; continue;
      case 'linkquality': continue;
      case 'availability': out.online = f.online; continue;
      default: break;
    }
    if (!apply(device, f, state, at, out)) out.unused++;
    if (f.fact === 'temperature' || f.fact === 'humidity' || (f.fact === 'switch' && device.role === 'climate')) climateTouched = true;
  }
  if (climateTouched && device.role === 'climate' && state.celsius !== undefined) {
    const climate: EventBody = { kind: 'climate', celsius: round1(state.celsius) };
    if (state.humidity !== undefined) climate.humidity = Math.round(state.humidity);
    if (state.aircon !== undefined) climate.aircon = state.aircon;
    const key = JSON.stringify(climate);
    if (key !== state.sentClimate) {
      state.sentClimate = key;
      out.events.push(climate);
    }
  }
  return out;
}

/** Applies one fact; false when the device's role has no use for it. */
function apply(device: MappedDevice, f: NativeFact, state: RoleState, at: number, out: Derived): boolean {
  switch (device.role) {
    case 'kettle': {
      const t = device.threshold ?? defaultKettleWatts;
      if (f.fact === 'power') {
        const watts = round1(f.watts);
        if (state.kettle !== 'on' && watts >= t.on) { state.kettle = 'on'; out.events.push({ kind: 'kettle', state: 'on', watts }); }
        else if (state.kettle !== 'off' && watts <= t.off) { state.kettle = 'off'; out.events.push({ kind: 'kettle', state: 'off', watts }); }
        return true;
      }
      if (f.fact === 'switch') {
        // The plug switched off under a boiling kettle: the kettle is off whatever the last watts said.
        if (!f.on && state.kettle === 'on') { state.kettle = 'off'; out.events.push({ kind: 'kettle', state: 'off', watts: 0 }); }
        return true;
      }
      return false;
    }
    case 'power': {
      if (f.fact !== 'power') return f.fact === 'switch';
      const watts = round1(f.watts);
      if (state.watts === undefined || Math.abs(watts - state.watts) >= (device.minDeltaWatts ?? defaultMinDeltaWatts)) {
        state.watts = watts;
        out.events.push({ kind: 'power', watts });
      }
      return true;
    }
    case 'door': {
      if (f.fact !== 'contact') return false;
      const open = device.invertContact ? f.closed : !f.closed;
      if (state.open !== open) {
        state.open = open;
        out.events.push(device.door ? { kind: 'door', open, door: device.door } : { kind: 'door', open });
      }
      return true;
    }
    case 'motion': {
      if (f.fact !== 'occupancy') return false;
      const repeat = f.occupied && state.occupied === true && (state.motionAt === undefined || at - state.motionAt >= motionRepeatMs);
      if (state.occupied !== f.occupied || repeat) {
        state.occupied = f.occupied;
        if (f.occupied) state.motionAt = at;
        out.events.push(device.room ? { kind: 'motion', occupied: f.occupied, room: device.room } : { kind: 'motion', occupied: f.occupied });
      }
      return true;
    }
    case 'water':
    case 'gas':
      return applyFlow(device, device.role, f, state, at, out);
    case 'button': {
      if (f.fact !== 'action') return false;
      const press = (device.actions ?? defaultActions)[f.action];
      if (press === undefined) return false;
      out.events.push({ kind: 'button', press });
      return true;
    }
    case 'climate': {
      if (f.fact === 'temperature') { state.celsius = f.celsius; return true; }
      if (f.fact === 'humidity') { state.humidity = f.percent; return true; }
      if (f.fact === 'switch') { state.aircon = f.on ? 'on' : 'off'; return true; }
      return false;
    }
  }
}

function applyFlow(device: MappedDevice, kind: 'water' | 'gas', f: NativeFact, state: RoleState, at: number, out: Derived): boolean {
  const send = (flowing: boolean, rate?: number) => {
    if (state.flowing === flowing) return;
    state.flowing = flowing;
    out.events.push(rate === undefined ? { kind, flowing } : { kind, flowing, rate: round1(rate) });
  };
  switch (f.fact) {
    case 'leak': send(f.wet); return true;
    case 'bath': send(f.running); return true;
    case 'flow': {
      const t = device.threshold ?? defaultFlowLitres;
      if (f.litresPerMinute >= t.on) send(true, f.litresPerMinute);
      else if (f.litresPerMinute <= t.off) send(false);
      return true;
    }
    case 'counter': {
      const before = state.counter;
      state.counter = { total: f.total, at };
      if (!before || f.total < before.total) return true; // first reading, or the counter was reset
      const litres = (f.total - before.total) * (device.litresPerPulse ?? 1);
      const minutes = (at - before.at) / 60_000;
      if (litres > 0) send(true, minutes > 0 ? litres / minutes : undefined);
      else send(false);
      return true;
    }
    default: return false;
  }
}
