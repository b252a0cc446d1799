/**
 * News photos: decoded and checked as real images, turned upright, resized to
 * at most 1600 px and re-encoded as JPEG without any metadata (EXIF, GPS
 * location, camera serials) — sharp drops metadata unless asked to keep it.
 */
import sharp from 'sharp';
import { MimamoriError } from '../core/errors.js';

const accepted = new Set(['jpeg', 'png', 'webp', 'heif']);
const maxSide = 1600;

export interface ProcessedPhoto { jpeg: Buffer; width: number; height: number }

/** Refuses anything that is not a JPEG, PNG, WebP or HEIF image (by content, not by name). */
export async function processPhoto(input: Buffer): Promise<ProcessedPhoto> {
  let format: string | undefined;
  try {
    format = (await sharp(input, { limitInputPixels: 100_000_000 }).metadata()).format;
  } catch {
    throw new MimamoriError('MIMAMORI_ERR_UNSUPPORTED_MEDIA', 'not an image');
  }
  if (!format || !accepted.has(format)) throw new MimamoriError('MIMAMORI_ERR_UNSUPPORTED_MEDIA', `image format ${format ?? 'unknown'}`);
  try {
    const { data, info } = await sharp(input, { limitInputPixels: 100_000_000 })
      .rotate() // apply the EXIF orientation before the EXIF block is dropped
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return { jpeg: data, width: info.width, height: info.height };
  } catch {
    throw new MimamoriError('MIMAMORI_ERR_UNSUPPORTED_MEDIA', 'the image could not be decoded');
  }
}
