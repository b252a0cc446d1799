/**
 * The bridge's report to the hub (docs/protocol.md "Bridge report"): which
 * devices it forwards and which it hears but nobody mapped; the hub answers
 * with the mappings the operator made on the onboarding page (each with its
 * device's secret), for the bridge to take on without a restart.
 *
 * `POST {web}/api/bridge/report`, HTTP Basic `{home}/{bridge device}` with the
 * bridge device's secret — the same credentials as an MQTT login. One schema
 * for both sides, so what the bridge sends is what the hub checks.
 */
import { z } from 'zod';
import { MimamoriError } from '../../core/errors.js';
import { idSchema } from '../../core/events.js';
import { ecosystems, mappedDeviceSchema, type MappedDevice } from './device-map.js';

export const bridgeReportPath = '/api/bridge/report';

/** Most unmapped devices one report lists (the newest first are kept); a home has a few dozen at most. */
export const maxReportedUnmapped = 200;

export const bridgeReportSchema = z.strictObject({
  /** mimamori device ids the bridge forwards now. */
  devices: z.array(idSchema).max(1000),
  unmapped: z.array(z.strictObject({
    adapter: z.enum(ecosystems),
    native: z.string().min(1).max(200),
    messages: z.number().int().nonnegative(),
    firstSeen: z.number().int().nonnegative(),
    lastSeen: z.number().int().nonnegative(),
  })).max(maxReportedUnmapped),
});
export type BridgeReport = z.infer<typeof bridgeReportSchema>;

/** A mapping made on the hub, with the device's secret (sent once over the bridge's authenticated channel). */
export const deliveredMappingSchema = mappedDeviceSchema.and(z.object({ secret: z.string().min(1) }));
export const bridgeReportAnswerSchema = z.strictObject({ mappings: z.array(deliveredMappingSchema).max(1000) });
export type DeliveredMapping = MappedDevice & { secret: string };

/** The `Authorization` header of a bridge (HTTP Basic, `{home}/{device}:{secret}`). */
export function bridgeAuthorization(home: string, device: string, secret: string): string {
  return `Basic ${Buffer.from(`${home}/${device}:${secret}`).toString('base64')}`;
}

/** Sends one report and returns the mappings the hub has for this bridge. */
export async function sendBridgeReport(o: { webUrl: string; home: string; device: string; secret: string; report: BridgeReport; timeoutMs?: number }): Promise<DeliveredMapping[]> {
  const res = await fetch(new URL(bridgeReportPath, o.webUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: bridgeAuthorization(o.home, o.device, o.secret) },
    body: JSON.stringify(o.report),
    signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
  });
  if (res.status === 401) throw new MimamoriError('MIMAMORI_ERR_UNAUTHENTICATED', `the hub refused the bridge's login ${o.home}/${o.device} (provision it with --kind bridge and put its secret in the map)`);
  if (!res.ok) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `the hub answered the bridge report with HTTP ${res.status}`);
  const answer = bridgeReportAnswerSchema.safeParse(await res.json());
  if (!answer.success) throw new MimamoriError('MIMAMORI_ERR_UNAVAILABLE', `the hub's answer to the bridge report is not understood: ${answer.error.issues[0]?.message ?? ''}`);
  return answer.data.mappings as DeliveredMapping[];
}
