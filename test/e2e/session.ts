/**
 * One end-to-end session: the real service over a SQLite file, the HTTP server serving the
 * built renderer, and a Chromium page (1280x800) collecting uncaught page errors. Or the same
 * over the fake host (openFakeUiSession), for UI behaviour that needs no real grouping.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ApiHost } from '../../core/api/host.js';
import { startHttpServer, type HttpServer } from '../../core/api/http.js';
import { createService } from '../../core/api/service.js';
import { openStore, type Store } from '../../core/store/index.js';
import { launchChromium } from './browser.js';
import { createFakeHost, type FakeOptions } from './fakeHost.js';

/** The window's size in CSS px; a deviceScaleFactor of 2 is a 200% zoom (or a HiDPI screen). */
export interface Viewport {
  width: number;
  height: number;
  deviceScaleFactor?: number;
}

export interface UiSession {
  store: Store;
  host: ApiHost;
  server: HttpServer;
  browser: Browser;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

/** The built renderer served for `host`, and a Chromium page on it collecting uncaught page errors. */
async function servePage(host: ApiHost, root: string, viewport: Viewport) {
  const server = await startHttpServer(host, { staticDir: path.join(root, 'dist/renderer') });
  const browser = await launchChromium();
  const { deviceScaleFactor, ...size } = viewport;
  const page = await browser.newPage({ viewport: size, ...(deviceScaleFactor ? { deviceScaleFactor } : {}) });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(20_000);
  return {
    server,
    browser,
    page,
    pageErrors,
    close: async () => {
      await browser.close();
      await server.close();
      await host.close();
    },
  };
}

export async function openUiSession(dbFile: string, root: string): Promise<UiSession> {
  const store = openStore(dbFile);
  const host = createService({ store });
  const served = await servePage(host, root, { width: 1280, height: 800 });
  return {
    ...served,
    store,
    host,
    close: async () => {
      await served.close();
      store.close();
    },
  };
}

export interface FakeUiSession {
  host: ReturnType<typeof createFakeHost>;
  server: HttpServer;
  browser: Browser;
  page: Page;
  pageErrors: string[];
  close(): Promise<void>;
}

/** The built renderer over a fresh fake host (populated: groups, a map, undo), in Chromium. */
export async function openFakeUiSession(
  root: string,
  opts: FakeOptions,
  viewport: Viewport = { width: 1280, height: 800 },
): Promise<FakeUiSession> {
  const host = createFakeHost(opts);
  return { ...(await servePage(host, root, viewport)), host };
}
