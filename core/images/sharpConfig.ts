import sharp from 'sharp';

export interface SharpSettings {
  /** libvips worker threads per image operation. Default 1 (see below). */
  concurrency?: number;
  /** libvips operation cache. Default false: every file is decoded once, caching only costs memory. */
  cache?: boolean;
}

/**
 * Process-wide sharp settings (libvips is shared by all worker threads of a process, so call
 * this once, e.g. in the main thread before starting decode workers).
 *
 * How many threads sharp uses: each pipeline (`toBuffer()`) runs on one libuv thread-pool
 * thread (UV_THREADPOOL_SIZE, default 4), and libvips may split that pipeline over
 * `sharp.concurrency()` threads. Prebuilt sharp on glibc Linux defaults concurrency to 1
 * (memory fragmentation); elsewhere it defaults to the number of cores.
 * Indexing (core/embed/pool.ts) runs inference on every core and one decode worker with one
 * more image in flight than there are inference workers: concurrency 1 and no cache, so each
 * decode takes one thread and the cores stay shared between decoding and inference.
 */
export function configureSharp(settings: SharpSettings = {}): { concurrency: number } {
  sharp.concurrency(settings.concurrency ?? 1);
  if (settings.cache ?? false) sharp.cache(true);
  else sharp.cache(false);
  return { concurrency: sharp.concurrency() };
}
