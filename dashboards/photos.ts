/**
 * News photos: decoded and checked as real images, turned upright, resized to
 * at most 1600 px and re-encoded as JPEG without any metadata (EXIF, GPS
 * location, camera serials) — sharp drops metadata unless asked to keep it.
 *
 * Decoding is the most expensive thing a person can ask of the hub, so it is
 * bounded twice (issue 15): an image above `maxPixels` (40 MP by default) is
 * refused from its header, before any pixel is decoded; and images are
 * processed `concurrency` at a time (1 by default) in their own queue, so a
 * burst of uploads leaves the thread pool to device logins and password
 * checks instead of stalling them.
 */
import sharp, { type Metadata } from 'sharp';
import { MimamoriError } from '../core/errors.js';

const accepted = new Set(['jpeg', 'png', 'webp', 'heif']);
const maxSide = 1600;

export interface ProcessedPhoto { jpeg: Buffer; width: number; height: number }

export interface PhotoProcessorOptions {
  /** Largest image accepted, in pixels (width × height; default 40 000 000). */
  maxPixels?: number;
  /** Images decoded at once (default 1: on a 2-core hub the rest of the hub keeps a core). */
  concurrency?: number;
}

export interface PhotoProcessor {
  /** Refuses anything that is not a JPEG, PNG, WebP or HEIF image (by content, not by name) or that is too large. */
  process(input: Buffer): Promise<ProcessedPhoto>;
  /** Images being decoded and waiting. */
  stats(): { running: number; waiting: number };
  readonly maxPixels: number;
}

/** One bounded queue of image work for one web app. */
export function createPhotoProcessor(opts: PhotoProcessorOptions = {}): PhotoProcessor {
  const maxPixels = opts.maxPixels ?? 40_000_000;
  const concurrency = opts.concurrency ?? 1;
  let running = 0;
  const waiting: Array<() => void> = [];

  async function inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try { return await work(); } finally {
      running--;
      waiting.shift()?.();
    }
  }

  async function decode(input: Buffer): Promise<ProcessedPhoto> {
    let meta: Metadata;
    try {
      // The header only: sharp reads width, height and format without decoding pixels.
      meta = await sharp(input, { limitInputPixels: false }).metadata();
    } catch {
      throw new MimamoriError('MIMAMORI_ERR_UNSUPPORTED_MEDIA', 'not an image');
    }
    const format = meta.format;
    if (!format || !accepted.has(format)) throw new MimamoriError('MIMAMORI_ERR_UNSUPPORTED_MEDIA', `image format ${format ?? 'unknown'}`);
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > maxPixels) throw new MimamoriError('MIMAMORI_ERR_IMAGE_TOO_LARGE', `${meta.width}×${meta.height} is ${(pixels / 1e6).toFixed(1)} MP; at most ${maxPixels / 1e6} MP`);
    try {
      const { data, info } = await sharp(input, { limitInputPixels: maxPixels })
        .rotate() // apply the EXIF orientation before the EXIF block is dropped
        .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 82, mozjpeg: true })
        .toBuffer({ resolveWithObject: true });
      return { jpeg: data, width: info.width, height: info.height };
    } catch {
      throw new MimamoriError('MIMAMORI_ERR_UNSUPPORTED_MEDIA', 'the image could not be decoded');
    }
  }

  return {
    maxPixels,
    process: (input) => inTurn(() => decode(input)),
    stats: () => ({ running, waiting: waiting.length }),
  };
}
