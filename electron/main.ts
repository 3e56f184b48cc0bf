/**
 * Electron main process entry (`dist/electron/main.js`, package.json `main`). Kept thin: all the
 * logic is in the modules beside it, which take the Electron objects as parameters and are
 * tested without launching Electron (test/electron/).
 */
// The preload is CommonJS (preload.cts) with no exports, so nothing imports it: this reference
// puts it in the program, so `tsc` typechecks it and emits dist/electron/preload.cjs.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./preload.cts" />
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { BrowserWindow, Menu, app, dialog, ipcMain, net, protocol, screen, session, shell } from 'electron';
import type { ApiHost } from '../core/api/host.js';
import { startApp } from './app.js';

/**
 * The core service over the database (`CONSTELLATE_DB`, else the default location shared with
 * the CLI), imported lazily: it opens SQLite and takes the instance lock. Closing the host
 * closes the service, then the database and the lock.
 */
async function createHost(): Promise<ApiHost> {
  const [{ openSession }, { createService }] = await Promise.all([import('../core/app/session.js'), import('../core/api/service.js')]);
  const session = openSession(process.env.CONSTELLATE_DB || undefined);
  const service = createService({ store: session.store, watch: true });
  return {
    handlers: service.handlers,
    mediaFile: (kind, imageId) => service.mediaFile(kind, imageId),
    // TIFF originals are shown as converted copies (the protocol handler serves them).
    previewFile: (imageId) => service.previewFile(imageId),
    onEvent: (listener) => service.onEvent(listener),
    async close() {
      try {
        await service.close();
      } finally {
        session.close();
      }
    },
  };
}

const distDir = dirname(dirname(fileURLToPath(import.meta.url)));
const isDev = !app.isPackaged;

startApp(
  { app, BrowserWindow, ipcMain, protocol, session, Menu, dialog, shell, net, screen },
  { distDir, isDev, devServerUrl: process.env.CONSTELLATE_DEV_SERVER_URL, createHost },
).catch((err: unknown) => {
  console.error('constellate: failed to start:', err);
  dialog.showErrorBox('Constellate could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
