/**
 * What an ecosystem adapter reads out of one native message: plain facts
 * ("occupancy is true", "the plug draws 1240 W", "the device went offline"),
 * before any mimamori meaning is given to them. Which canonical event a fact
 * becomes depends on the device's role in the home (device-roles.ts), so the
 * same Zigbee plug can be a kettle in one home and a television in another.
 */

export type NativeFact =
  | { fact: 'occupancy'; occupied: boolean }
  /** A door/window contact: `closed` true when the magnet is near. */
  | { fact: 'contact'; closed: boolean }
  /** A flood / water-leak sensor is wet. */
  | { fact: 'leak'; wet: boolean }
  /** A button action as the device names it (`single`, `double`, `hold`, …). */
  | { fact: 'action'; action: string }
  | { fact: 'power'; watts: number }
  /** A relay / plug output. */
  | { fact: 'switch'; on: boolean }
  | { fact: 'temperature'; celsius: number }
  | { fact: 'humidity'; percent: number }
  /** Water (or gas) flow in litres per minute. */
  | { fact: 'flow'; litresPerMinute: number }
  /** A running pulse count (e.g. a Tasmota counter on a water meter); flow is its increase. */
  | { fact: 'counter'; total: number }
  /** A bath / hot-water unit is filling or keeping the bath (ECHONET Lite 0x026B). */
  | { fact: 'bath'; running: boolean }
  | { fact: 'battery'; percent: number }
  /** Radio strength in dBm (Wi-Fi devices). */
  | { fact: 'rssi'; dbm: number }
  /** Zigbee link quality, 0–255 (not dBm; kept for the operator only). */
  | { fact: 'linkquality'; lqi: number }
  | { fact: 'availability'; online: boolean };

/** Why a native message was refused. */
export type AdaptRejectReason = 'malformed_json' | 'not_an_object' | 'invalid_value' | 'unknown_payload';

/** The result of reading one native message. An empty `facts` list means "understood, nothing for us" (e.g. a light's brightness). */
export type AdaptResult = { ok: true; facts: NativeFact[] } | { ok: false; reason: AdaptRejectReason; detail: string };

/** Where a native MQTT message comes from: the device as the ecosystem names it, and which of its topics. */
export interface NativeRoute { native: string; channel: string }

/** One MQTT ecosystem: which topics it uses and how to read them. */
export interface MqttAdapter {
  readonly name: 'zigbee2mqtt' | 'shelly' | 'tasmota';
  /** Topic filters to subscribe to on the home's broker. */
  readonly subscriptions: readonly string[];
  /** The device and channel a topic belongs to, or undefined when the topic is not this ecosystem's (or carries nothing for us). */
  route(topic: string): NativeRoute | undefined;
  /** Reads one message of a routed topic. */
  read(route: NativeRoute, payload: Buffer): AdaptResult;
}

export const understood = (facts: NativeFact[]): AdaptResult => ({ ok: true, facts });
export const refused = (reason: AdaptRejectReason, detail: string): AdaptResult => ({ ok: false, reason, detail });

/** Parses a JSON object payload, or says why not. */
export function jsonObject(payload: Buffer): { ok: true; value: Record<string, unknown> } | { ok: false; result: AdaptResult } {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, result: refused('malformed_json', (err as Error).message) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, result: refused('not_an_object', 'payload must be a JSON object') };
  return { ok: true, value: value as Record<string, unknown> };
}

/** Collects facts from fields, or the first field whose value has the wrong type. */
export class FactReader {
  readonly facts: NativeFact[] = [];
  problem: string | undefined;

  /** A finite number within [min, max], or a problem when present with another type. */
  number(source: Record<string, unknown>, key: string, min: number, max: number, make: (n: number) => NativeFact): void {
    const v = source[key];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.problem ??= `${key} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`;
      return;
    }
    this.facts.push(make(v));
  }

  boolean(source: Record<string, unknown>, key: string, make: (b: boolean) => NativeFact): void {
    const v = source[key];
    if (v === undefined || v === null) return;
    if (typeof v !== 'boolean') {
      this.problem ??= `${key} must be true or false, got ${JSON.stringify(v)}`;
      return;
    }
    this.facts.push(make(v));
  }

  /** `ON` / `OFF` (any case) as a boolean. */
  onOff(source: Record<string, unknown>, key: string, make: (b: boolean) => NativeFact): void {
    const v = source[key];
    if (v === undefined || v === null) return;
    const s = typeof v === 'string' ? v.toUpperCase() : undefined;
    if (s !== 'ON' && s !== 'OFF') {
      this.problem ??= `${key} must be "ON" or "OFF", got ${JSON.stringify(v)}`;
      return;
    }
    this.facts.push(make(s === 'ON'));
  }

  /** The collected facts, or `invalid_value` when a field was wrong; `unknown_payload` when `requireSome` and nothing was found. */
  result(requireSome: string | undefined): AdaptResult {
    if (this.problem !== undefined) return refused('invalid_value', this.problem);
    if (requireSome !== undefined && this.facts.length === 0) return refused('unknown_payload', requireSome);
    return understood(this.facts);
  }
}

/** Upper bound on watts a household socket or meter can report (Japan: 100/200 V, 60 A main breaker ≈ 12 kW). */
export const maxWatts = 100_000;
