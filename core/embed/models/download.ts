/**
 * Known models the app can download where the network is reachable (never at install or start:
 * only when the user asks), from Hugging Face's transformers.js exports:
 *   <base>/<repo>/resolve/main/<file>, base https://huggingface.co (CONSTELLATE_MODEL_BASE_URL
 *   overrides it: a mirror, or the tests' local server).
 * Files go to `<models folder>/downloads/<id>.part/`, each resumed where it stopped (an HTTP
 * Range request; a server that answers the whole file starts it over), checked against the
 * sha256 the server gives for it (Hugging Face's `X-Linked-Etag` for large files, else the ETag
 * when it is a sha256), and the folder is renamed into place only when every file is complete.
 * Cancel keeps what arrived for the next try.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface CatalogEntry {
  id: string;
  name: string;
  repo: string;
  /** Files of the folder, relative; the ONNX ones are most of the size. */
  files: string[];
  /** The size the catalogue expects (the server's figures are shown once known). */
  approxBytes: number;
  licence: string;
  text: boolean;
  about: string;
}

export const MODEL_CATALOG: readonly CatalogEntry[] = [
  {
    id: 'clip-vit-base-patch32',
    name: 'CLIP ViT-B/32 (OpenAI)',
    repo: 'Xenova/clip-vit-base-patch32',
    files: [
      'config.json',
      'preprocessor_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/vision_model.onnx',
      'onnx/text_model.onnx',
    ],
    approxBytes: 608_000_000,
    licence: 'MIT',
    text: true,
    about: 'images and text in one space: text search and suggested names; 512-d',
  },
  {
    id: 'dinov2-small',
    name: 'DINOv2 small (Meta)',
    repo: 'Xenova/dinov2-small',
    files: ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'],
    approxBytes: 88_600_000,
    licence: 'Apache-2.0',
    text: false,
    about: 'self-supervised image features, strong for grouping by look; images only; 384-d',
  },
];

export function catalogBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.CONSTELLATE_MODEL_BASE_URL || 'https://huggingface.co').replace(/\/+$/, '');
}

export function fileUrl(entry: CatalogEntry, file: string, base = catalogBaseUrl()): string {
  return `${base}/${entry.repo}/resolve/main/${file}`;
}

export interface DownloadProgress {
  file: string;
  /** Bytes of all files so far (what was there from an earlier try included), and in all. */
  done: number;
  total: number;
}

/** The download failed; `message` says why and, where the network is unreachable, how to copy a model in. */
export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

interface Remote {
  size: number | null;
  sha256: string | null;
}

const SHA256 = /^"?(?:W\/)?"?([0-9a-f]{64})"?$/;

async function head(url: string, signal?: AbortSignal): Promise<Remote> {
  // Not followed: Hugging Face puts a large file's sha256 and size on the redirect to its CDN.
  const res = await fetch(url, { method: 'HEAD', redirect: 'manual', signal });
  if (res.status >= 300 && res.status < 400) {
    const linked = res.headers.get('x-linked-etag')?.match(SHA256)?.[1] ?? null;
    const size = Number(res.headers.get('x-linked-size'));
    if (linked && size > 0) return { size, sha256: linked };
    const next = res.headers.get('location');
    if (next) return head(new URL(next, url).href, signal);
  }
  if (!res.ok) throw new DownloadError(`${url}: the server answered ${res.status} ${res.statusText}`);
  const size = Number(res.headers.get('content-length'));
  return { size: size > 0 ? size : null, sha256: res.headers.get('etag')?.match(SHA256)?.[1] ?? null };
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function offline(err: unknown, entry: CatalogEntry, base: string): DownloadError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new DownloadError(
    `could not reach ${new URL(base).host} (${why}). Offline? On a machine with a network, download the files of ${entry.repo} (${entry.files.join(', ')}) into one folder, keeping the onnx/ sub-folder, copy it here and add it with Models > Add folder (constellate models add <folder>)`,
  );
}

/**
 * Downloads `entry` into `<modelsDir>/downloads/<id>` and returns that folder. `onProgress` is
 * called as bytes arrive; `signal` cancels (what arrived is kept for the next call).
 */
export async function downloadModel(
  entry: CatalogEntry,
  options: { modelsDir: string; baseUrl?: string; signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void },
): Promise<string> {
  const base = options.baseUrl ?? catalogBaseUrl();
  const dest = path.join(options.modelsDir, 'downloads', entry.id);
  const part = `${dest}.part`;
  mkdirSync(part, { recursive: true });
  let remotes: Remote[];
  try {
    remotes = await Promise.all(entry.files.map((f) => head(fileUrl(entry, f, base), options.signal)));
  } catch (err) {
    if (err instanceof DownloadError || (err as Error).name === 'AbortError') throw err;
    throw offline(err, entry, base);
  }
  const total = remotes.reduce((n, r) => n + (r.size ?? 0), 0);
  const have = (f: string) => statSync(path.join(part, f), { throwIfNoEntry: false })?.size ?? 0;
  let done = entry.files.reduce((n, f) => n + have(f), 0);
  for (const [i, file] of entry.files.entries()) {
    const remote = remotes[i]!;
    const target = path.join(part, file);
    const okMark = `${target}.ok`;
    if (existsSync(okMark) && readFileSync(okMark, 'utf8') === String(remote.sha256 ?? remote.size)) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    let start = have(file);
    if (remote.size !== null && start > remote.size) {
      done -= start;
      rmSync(target, { force: true });
      start = 0;
    }
    if (remote.size === null || start < remote.size) {
      let res: Response;
      try {
        res = await fetch(fileUrl(entry, file, base), { headers: start > 0 ? { range: `bytes=${start}-` } : {}, signal: options.signal });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        throw offline(err, entry, base);
      }
      if (!res.ok || !res.body)
        throw new DownloadError(`${fileUrl(entry, file, base)}: the server answered ${res.status} ${res.statusText}`);
      const resumed = res.status === 206;
      if (!resumed && start > 0) {
        done -= start; // the server sends the whole file: start it over
        start = 0;
      }
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          done += chunk.length;
          options.onProgress?.({ file, done, total: Math.max(total, done) });
          cb(null, chunk);
        },
      });
      await pipeline(
        Readable.fromWeb(res.body as unknown as WebReadableStream),
        counter,
        createWriteStream(target, { flags: resumed ? 'a' : 'w' }),
        { signal: options.signal },
      );
    }
    const size = statSync(target).size;
    if (remote.size !== null && size !== remote.size)
      throw new DownloadError(`${file}: received ${size} bytes of ${remote.size}; try again to resume`);
    if (remote.sha256) {
      const got = await sha256Of(target);
      if (got !== remote.sha256) {
        rmSync(target, { force: true });
        throw new DownloadError(
          `${file} does not match its checksum (sha256 ${got.slice(0, 12)}…, expected ${remote.sha256.slice(0, 12)}…): it was removed; try again`,
        );
      }
    }
    writeFileSync(okMark, String(remote.sha256 ?? remote.size));
  }
  for (const file of entry.files) rmSync(path.join(part, `${file}.ok`), { force: true });
  rmSync(dest, { recursive: true, force: true });
  renameSync(part, dest);
  return dest;
}
