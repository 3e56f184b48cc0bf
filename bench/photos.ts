/**
 * A folder of realistic 1600x1200 camera-like JPEGs for the pipeline benchmarks: each is a real
 * image from the shared tuxpaint300 set (photos and clip-art cut-outs), upscaled about 3x and
 * placed on a real fashion-mnist image upscaled to the full frame (soft, blurry texture) with
 * sensor-like grain, then encoded as a camera would (JPEG q90, 4:2:0, EXIF with camera, date and
 * orientation). Decoding them costs what a phone photo of that size costs (entropy-coded detail
 * everywhere, shrink-on-load, EXIF parsing), unlike a flat synthetic gradient.
 *
 * Made once per size and reused (`cs-bench-photos-<n>` in the temp folder).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

const SHARED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/datasets');
export const PHOTO_WIDTH = 1600;
export const PHOTO_HEIGHT = 1200;
const VERSION = 1;

function listImages(set: string): string[] {
  const root = path.join(SHARED, set);
  return readdirSync(root)
    .sort()
    .flatMap((label) =>
      readdirSync(path.join(root, label))
        .sort()
        .map((f) => path.join(root, label, f)),
    );
}

/** A deterministic byte stream (xorshift32). */
function grain(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = 128 + ((s & 31) - 16);
  }
  return out;
}

export async function makePhoto(i: number, subjects: string[], backgrounds: string[]): Promise<Buffer> {
  const W = PHOTO_WIDTH;
  const H = PHOTO_HEIGHT;
  const bg = await sharp(backgrounds[(i * 7) % backgrounds.length]!)
    .resize(W, H, { fit: 'fill', kernel: 'cubic' })
    .blur(6)
    .modulate({ saturation: 0.6, hue: (i * 37) % 360 })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer();
  // Tint the grey background and add grain, as a sensor would.
  const noise = grain(W * H * 3, i + 1);
  const tint = [(i * 53) % 90, (i * 29) % 90, (i * 71) % 90];
  const pixels = Buffer.alloc(W * H * 3);
  for (let p = 0; p < W * H * 3; p++) pixels[p] = Math.max(0, Math.min(255, bg[p % bg.length]! * 0.7 + tint[p % 3]! + noise[p]! - 128));
  const subject = await sharp(subjects[i % subjects.length]!)
    .resize({ width: 1100, height: 1000, fit: 'inside', kernel: 'lanczos3' })
    .ensureAlpha()
    .png()
    .toBuffer();
  const meta = await sharp(subject).metadata();
  const left = Math.round((((i * 97) % 100) / 100) * Math.max(0, W - (meta.width ?? 0)));
  const top = Math.round((((i * 61) % 100) / 100) * Math.max(0, H - (meta.height ?? 0)));
  return sharp(pixels, { raw: { width: W, height: H, channels: 3 } })
    .composite([{ input: subject, left, top }])
    .withExif({
      IFD0: {
        Make: 'Constellate',
        Model: 'Bench Camera',
        DateTime: `2024:05:${String(1 + (i % 28)).padStart(2, '0')} 12:00:00`,
        Orientation: '1',
      },
    })
    .jpeg({ quality: 90, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

/** The folder of `n` photos, made where missing. */
export async function benchPhotos(n: number): Promise<{ folder: string; files: string[] }> {
  const folder = path.join(tmpdir(), `cs-bench-photos-v${VERSION}-${n}`);
  mkdirSync(folder, { recursive: true });
  const subjects = listImages('tuxpaint300');
  const backgrounds = listImages('fashion-mnist-1k');
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = path.join(folder, `IMG_${String(i + 1).padStart(5, '0')}.jpg`);
    files.push(f);
    if (!existsSync(f)) writeFileSync(f, await makePhoto(i, subjects, backgrounds));
  }
  return { folder, files };
}
