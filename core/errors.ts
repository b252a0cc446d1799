/**
 * The one error catalogue. Every error a person or device can see has a code,
 * a message and an HTTP status.
 */
export const errorCatalogue = {
  MIMAMORI_ERR_CONFIG: { status: 500, message: 'Invalid configuration' },
  MIMAMORI_ERR_INVALID_INPUT: { status: 400, message: 'Invalid input' },
  MIMAMORI_ERR_INVALID_RULE: { status: 400, message: 'Invalid rule' },
  MIMAMORI_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  MIMAMORI_ERR_CONFLICT: { status: 409, message: 'Already exists' },
  MIMAMORI_ERR_UNAUTHENTICATED: { status: 401, message: 'Not signed in or bad credentials' },
  MIMAMORI_ERR_FORBIDDEN: { status: 403, message: 'Not allowed' },
  MIMAMORI_ERR_LOCKED_OUT: { status: 429, message: 'Too many failed attempts; try again later' },
  MIMAMORI_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'Payload too large' },
  MIMAMORI_ERR_UNAVAILABLE: { status: 503, message: 'A dependency is unavailable' },
  MIMAMORI_ERR_MISSING_DEPENDENCY: { status: 500, message: 'A required program is missing' },
  MIMAMORI_ERR_CSRF: { status: 403, message: 'Missing or wrong CSRF token' },
  MIMAMORI_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests; slow down' },
  MIMAMORI_ERR_UNSUPPORTED_MEDIA: { status: 415, message: 'Unsupported file type' },
  MIMAMORI_ERR_IMAGE_TOO_LARGE: { status: 413, message: 'Image has too many pixels' },
  MIMAMORI_ERR_BACKUP_WRONG_KEY: { status: 400, message: 'Wrong backup passphrase' },
  MIMAMORI_ERR_BACKUP_DAMAGED: { status: 400, message: 'Backup archive refused' },
  MIMAMORI_ERR_STORED_DATA: { status: 500, message: 'Stored data is damaged or not what this version reads' },
  MIMAMORI_ERR_FENCED: { status: 409, message: 'This node no longer runs the home (a newer lease token took it over)' },
  MIMAMORI_ERR_STALE: { status: 409, message: 'Changed by someone else since it was read; read it again' },
  MIMAMORI_ERR_READ_ONLY: { status: 405, message: 'This is a read-only reference copy of a backup; nothing can be changed here' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export class MimamoriError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, detail?: string, details?: unknown) {
    const entry = errorCatalogue[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message);
    this.name = 'MimamoriError';
    this.code = code;
    this.status = entry.status;
    this.details = details;
  }
}

export function isMimamoriError(err: unknown, code?: ErrorCode): err is MimamoriError {
  return err instanceof MimamoriError && (code === undefined || err.code === code);
}

/**
 * Whether the store refused a write because another node runs the home now
 * (`MIMAMORI_ERR_FENCED`: jobs/, docs/scale-out.md). Matched by code, not class,
 * so a refusal that lost its class on the way (rethrown from a driver, wrapped,
 * serialized) still ends the job as the new owner's instead of retrying it.
 * The one place that decides it: the job scheduler and the hub's handlers.
 */
export function isFenced(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'MIMAMORI_ERR_FENCED';
}

/**
 * Whether the store refused a write because the row changed since the caller read it (`MIMAMORI_ERR_STALE`:
 * an escalation step and a person's answer on another node, docs/scale.md). Matched by code, like `isFenced`.
 */
export function isStale(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'MIMAMORI_ERR_STALE';
}
