/**
 * The desktop app's wiring, with every Electron module passed in (main.ts passes the real ones,
 * test/electron/app.test.ts passes recording doubles). Owns the window and the core service; the
 * heavy work (decode, embed, train) runs in the core's worker threads, never here.
 */
import { join } from 'node:path';
import type {
  App,
  BrowserWindow as BrowserWindowType,
  BrowserWindowConstructorOptions,
  Dialog,
  IpcMain,
  Menu as MenuType,
  MenuItemConstructorOptions,
  Net,
  OpenDialogOptions,
  Protocol,
  Screen,
  Session,
  Shell,
} from 'electron';
import type { ApiHost } from '../core/api/host.js';
import { APP_ENTRY_URL, APP_SCHEME, MEDIA_SCHEME, MENU_CHANNEL, type MenuCommand } from './constants.js';
import { selectBackend } from './gpu.js';
import { forwardEvents, registerIpc, type DesktopServices } from './ipc.js';
import { buildMenuTemplate } from './menu.js';
import { trackJobProgress } from './progress.js';
import { PRIVILEGED_SCHEMES, handleAppRequest, handleMediaRequest } from './protocol.js';
import { applySessionSecurity, createWindowOptions, hardenWebContents, isTrustedSender, type SecurityOptions } from './security.js';
import { WINDOW_STATE_FILE, loadWindowState, restoreBounds, trackWindowState } from './windowState.js';

export interface ElectronModules {
  app: App;
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindowType;
  ipcMain: IpcMain;
  protocol: Protocol;
  session: { defaultSession: Session };
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): MenuType; setApplicationMenu(menu: MenuType | null): void };
  dialog: Dialog;
  shell: Shell;
  net: Net;
  screen: Screen;
}

export interface StartOptions {
  /** `dist/` of the app: `dist/electron/preload.cjs` and `dist/renderer/` are found from here. */
  distDir: string;
  isDev: boolean;
  /** Vite dev server URL (development only). */
  devServerUrl?: string | undefined;
  /** Builds the core service; main.ts imports core/api/service.ts lazily. */
  createHost(): Promise<ApiHost>;
  /** Skip the backend probe (tests). */
  probeBackend?: boolean;
}

export interface RunningApp {
  host: ApiHost;
  window(): BrowserWindowType | null;
}

/** The window (null while there is none) and the core service (null until it is built). */
interface AppState {
  win: BrowserWindowType | null;
  host: ApiHost | null;
}

/**
 * Call once, synchronously at start-up (schemes must be registered before `ready`). Resolves
 * with the running app, or null when another instance already runs (this one quits).
 */
export async function startApp(e: ElectronModules, options: StartOptions): Promise<RunningApp | null> {
  const { app } = e;
  const security: SecurityOptions = { devServerUrl: options.isDev ? options.devServerUrl : undefined };

  e.protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);
  app.enableSandbox();

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }

  const state: AppState = { win: null, host: null };
  handleAppEvents(app, security, state);

  await app.whenReady();

  applySessionSecurity(e.session.defaultSession, security);
  const fetchFile = (url: string) => e.net.fetch(url);
  const rendererDir = join(options.distDir, 'renderer');
  e.protocol.handle(APP_SCHEME, (request) => handleAppRequest(request, rendererDir, fetchFile, security));

  if (options.probeBackend !== false) void selectBackend();
  state.host = await options.createHost();
  const h = state.host;
  e.protocol.handle(MEDIA_SCHEME, (request) => handleMediaRequest(request, h));
  connectHost(e, h, options, security, state);

  createWindow(e, options, security, state);
  app.on('activate', () => {
    if (!state.win) createWindow(e, options, security, state);
    else focusWindow(state);
  });

  return { host: h, window: () => state.win };
}

function focusWindow(state: AppState): void {
  const { win } = state;
  if (!win || win.isDestroyed()) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

/** A second instance focuses this one's window; quitting waits for the service to close. */
function handleAppEvents(app: App, security: SecurityOptions, state: AppState): void {
  app.on('second-instance', () => focusWindow(state));
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, security));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closing = false;
  app.on('will-quit', (event) => {
    if (closing || !state.host) return;
    closing = true;
    event.preventDefault();
    void state.host
      .close()
      .catch((err: unknown) => console.error('constellate: closing the service failed:', err))
      .finally(() => app.quit());
  });
}

/** The service's IPC, its events and job progress to the window, and the menu's commands to the renderer. */
function connectHost(e: ElectronModules, h: ApiHost, options: StartOptions, security: SecurityOptions, state: AppState): void {
  const trusted = (event: Parameters<typeof isTrustedSender>[0]) => isTrustedSender(event, security);
  const pickFolder = async (): Promise<string | null> => {
    const dialogOptions: OpenDialogOptions = { title: 'Add a folder of images', properties: ['openDirectory', 'createDirectory'] };
    const result = state.win ? await e.dialog.showOpenDialog(state.win, dialogOptions) : await e.dialog.showOpenDialog(dialogOptions);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  };
  const desktop: DesktopServices = {
    pickFolder,
    showItemInFolder: (path) => e.shell.showItemInFolder(path),
    openPath: (path) => e.shell.openPath(path),
  };
  registerIpc(e.ipcMain, h, trusted, desktop);
  forwardEvents(h, () => (state.win && !state.win.isDestroyed() ? [state.win.webContents] : []));
  trackJobProgress(h, () => state.win);

  const send = (command: MenuCommand) => state.win?.webContents.send(MENU_CHANNEL, command);
  const menu = buildMenuTemplate({ platform: process.platform, isDev: options.isDev, appName: e.app.getName(), send });
  e.Menu.setApplicationMenu(e.Menu.buildFromTemplate(menu));
}

/** Opens the window where it was last (on a display that is still there), and remembers where it goes. */
function createWindow(e: ElectronModules, options: StartOptions, security: SecurityOptions, state: AppState): void {
  const stateFile = join(e.app.getPath('userData'), WINDOW_STATE_FILE);
  const saved = loadWindowState(stateFile);
  const bounds = restoreBounds(
    saved,
    e.screen.getAllDisplays().map((d) => d.workArea),
  );
  const w = new e.BrowserWindow(
    createWindowOptions({ preload: join(options.distDir, 'electron', 'preload.cjs'), bounds, isDev: options.isDev, ...security }),
  );
  state.win = w;
  if (saved?.maximized) w.maximize();
  trackWindowState(w, stateFile);
  w.once('ready-to-show', () => w.show());
  w.on('closed', () => {
    if (state.win === w) state.win = null;
  });
  void w.loadURL(security.devServerUrl ?? APP_ENTRY_URL);
}
