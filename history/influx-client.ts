/**
 * The one InfluxDB client of a hub (createHistory builds it): used by the
 * writer for the schema and by the queries. It never retries or disables
 * the host on its own — the writer's retry loop decides when to try again,
 * and a query on an unreachable InfluxDB fails at once instead of hanging —
 * and it keeps no timers running after close.
 */
import type { Agent as HttpAgent } from 'node:http';
import { InfluxDB } from 'influx';

export interface InfluxClientOptions {
  /** InfluxDB 1.x base URL, e.g. `http://127.0.0.1:8086`; a path prefix is kept. */
  url: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** A request that has not answered by then fails. Default 10 s. */
  requestTimeoutMs?: number;
  /** Keep-alive agent (the writer shares its own). */
  agent?: HttpAgent;
}

/** Builds the client; does not connect. */
export function createInfluxClient(o: InfluxClientOptions): InfluxDB {
  const base = new URL(o.url);
  const basePath = base.pathname.replace(/\/$/, '');
  const secure = base.protocol === 'https:';
  const neverBackOff = { getDelay: () => 0, next: () => neverBackOff, reset: () => neverBackOff };
  return new InfluxDB({
    host: base.hostname, port: Number(base.port || (secure ? 443 : 80)), protocol: secure ? 'https' : 'http', path: basePath,
    database: o.database, username: o.username, password: o.password,
    pool: { maxRetries: 0, requestTimeout: o.requestTimeoutMs ?? 10_000, backoff: neverBackOff },
    ...(o.agent ? { options: { agent: o.agent } } : {}),
  });
}
