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

/** The service factory, imported lazily (it opens SQLite and the job machinery). */
const SERVICE_MODULE = '../core/api/service.js';
interface ServiceModule {
  createService(options: { dbPath: string }): ApiHost | Promise<ApiHost>;
}

async function createHost(): Promise<ApiHost> {
  const { defaultDatabasePath } = await import('../core/store/database.js');
  const dbPath = process.env.CONSTELLATE_DB || defaultDatabasePath();
  const service = (await import(SERVICE_MODULE)) as ServiceModule;
  return service.createService({ dbPath });
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
