/**
 * The desktop app's wiring (electron/app.ts) with recording doubles of the Electron modules: one
 * instance, the schemes and the API registered, the window opened on the app's URL, the menu's
 * commands sent to it, a second instance focusing it, a closed window opened again on `activate`,
 * and quitting that waits for the service to close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type ElectronModules } from '../../electron/app.js';
import { APP_ENTRY_URL, APP_SCHEME, MEDIA_SCHEME, MENU_CHANNEL } from '../../electron/constants.js';
import { flattenMenu } from '../../electron/menu.js';
import { FakeEvent, FakeIpcMain, FakeWebContents, RecordingEmitter, hostDouble } from './doubles.js';

class FakeWindow extends RecordingEmitter {
  static made: FakeWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  readonly calls: string[] = [];
  destroyed = false;
  minimized = false;
  constructor(readonly options: { webPreferences?: { preload?: string } }) {
    super();
    FakeWindow.made.push(this);
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    return Promise.resolve();
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.calls.push('restore');
  }
  show(): void {
    this.calls.push('show');
  }
  focus(): void {
    this.calls.push('focus');
  }
  maximize(): void {
    this.calls.push('maximize');
  }
  getNormalBounds() {
    return { x: 0, y: 0, width: 800, height: 600 };
  }
  isMaximized(): boolean {
    return false;
  }
  isFullScreen(): boolean {
    return false;
  }
}

class FakeApp extends RecordingEmitter {
  readonly calls: string[] = [];
  constructor(
    readonly userData: string,
    readonly locked = true,
  ) {
    super();
  }
  enableSandbox(): void {
    this.calls.push('enableSandbox');
  }
  requestSingleInstanceLock(): boolean {
    return this.locked;
  }
  quit(): void {
    this.calls.push('quit');
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  getName(): string {
    return 'Constellate';
  }
  getPath(): string {
    return this.userData;
  }
}

const dirs: string[] = [];
afterEach(() => {
  FakeWindow.made = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function modules(locked = true) {
  const dir = mkdtempSync(join(tmpdir(), 'constellate-app-'));
  dirs.push(dir);
  const app = new FakeApp(dir, locked);
  const schemes: string[] = [];
  const privileged: unknown[] = [];
  const menus: MenuItemConstructorOptions[][] = [];
  const ipcMain = new FakeIpcMain();
  const noop = () => undefined;
  const e = {
    app,
    BrowserWindow: FakeWindow,
    ipcMain,
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => privileged.push(...s),
      handle: (scheme: string) => schemes.push(scheme),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: noop,
        setPermissionCheckHandler: noop,
        setDevicePermissionHandler: noop,
        webRequest: { onBeforeRequest: noop, onHeadersReceived: noop },
      },
    },
    Menu: {
      buildFromTemplate: (t: MenuItemConstructorOptions[]) => ({ template: t }),
      setApplicationMenu: (m: { template: MenuItemConstructorOptions[] } | null) => {
        if (m) menus.push(m.template);
      },
    },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    shell: { showItemInFolder: noop, openPath: async () => '' },
    net: { fetch: async () => new Response('') },
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
  } as unknown as ElectronModules;
  return { e, app, schemes, privileged, menus, ipcMain };
}

describe('startApp', () => {
  it('wires one window, the schemes, the API and the menu; a second instance focuses the window', async () => {
    const { e, app, schemes, privileged, menus, ipcMain } = modules();
    const host = hostDouble();
    const running = await startApp(e, { distDir: '/dist', isDev: false, createHost: async () => host, probeBackend: false });
    expect(running?.host).toBe(host);
    expect(app.calls).toContain('enableSandbox');
    expect(privileged.length).toBeGreaterThan(0);
    expect(schemes).toEqual([APP_SCHEME, MEDIA_SCHEME]);
    expect(ipcMain.handlers.size).toBeGreaterThan(0);

    expect(FakeWindow.made).toHaveLength(1);
    const win = FakeWindow.made[0]!;
    expect(running?.window()).toBe(win);
    expect(win.loaded).toEqual([APP_ENTRY_URL]);
    expect(win.options.webPreferences?.preload).toBe(join('/dist', 'electron', 'preload.cjs'));
    win.emit('ready-to-show');
    expect(win.calls).toEqual(['show']);

    // A menu command goes to the window's page.
    expect(menus).toHaveLength(1);
    const undo = flattenMenu(menus[0]!).find((i) => i.id === 'undo')!;
    (undo.click as () => void)();
    expect(win.webContents.sent).toEqual([{ channel: MENU_CHANNEL, args: ['undo'] }]);

    win.minimized = true;
    win.calls.length = 0;
    app.emit('second-instance');
    expect(win.calls).toEqual(['restore', 'show', 'focus']);
  });

  it('opens a new window on activate once the last one closed, and focuses a live one', async () => {
    const { e, app } = modules();
    const running = await startApp(e, { distDir: '/dist', isDev: false, createHost: async () => hostDouble(), probeBackend: false });
    const first = FakeWindow.made[0]!;
    first.destroyed = true;
    first.emit('closed');
    expect(running?.window()).toBeNull();
    app.emit('activate');
    expect(FakeWindow.made).toHaveLength(2);
    const second = FakeWindow.made[1]!;
    expect(running?.window()).toBe(second);
    app.emit('activate');
    expect(FakeWindow.made).toHaveLength(2);
    expect(second.calls).toEqual(['show', 'focus']);
  });

  it('quits only after the service has closed, closing it once', async () => {
    const { e, app } = modules();
    let closes = 0;
    let release!: () => void;
    const host = hostDouble();
    host.close = () => {
      closes++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    await startApp(e, { distDir: '/dist', isDev: false, createHost: async () => host, probeBackend: false });
    const first = new FakeEvent();
    app.emit('will-quit', first);
    expect(first.defaultPrevented).toBe(true);
    expect(app.calls).not.toContain('quit');
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(app.calls.filter((c) => c === 'quit')).toHaveLength(1);
    // The quit it asked for goes through.
    const second = new FakeEvent();
    app.emit('will-quit', second);
    expect(second.defaultPrevented).toBe(false);
    expect(closes).toBe(1);
  });

  it('quits at once when another instance holds the lock', async () => {
    const { e, app } = modules(false);
    expect(await startApp(e, { distDir: '/dist', isDev: false, createHost: async () => hostDouble(), probeBackend: false })).toBeNull();
    expect(app.calls).toEqual(['enableSandbox', 'quit']);
    expect(FakeWindow.made).toHaveLength(0);
  });
});
