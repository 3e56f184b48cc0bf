/**
 * The preload, compiled as the build compiles it (CommonJS from preload.cts) and run the way a
 * sandboxed renderer runs it: a bare context whose `require` knows only 'electron'.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { createClient, httpTransport, ipcTransport, type IpcBridge } from '../../core/shared/client.js';
import { IPC_CHANNEL, IPC_EVENT_CHANNEL } from '../../core/shared/contract.js';
import { APP_ENTRY_URL, DESKTOP_CHANNEL, MEDIA_BASE, MENU_CHANNEL } from '../../electron/constants.js';
import { registerIpc } from '../../electron/ipc.js';
import { isTrustedSender } from '../../electron/security.js';
import { FakeIpcMain, hostDouble, senderEvent } from './doubles.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const source = readFileSync(`${root}electron/preload.cts`, 'utf8');

function compile(): string {
  const config = ts.readConfigFile(`${root}tsconfig.build.json`, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const out = ts.transpileModule(source, { compilerOptions: parsed.options, fileName: `${root}electron/preload.cts` });
  return out.outputText;
}

/** Runs the compiled preload against a fake ipcRenderer, optionally wired to a real registerIpc. */
function load(ipcMain?: FakeIpcMain) {
  const exposed: Array<{ key: string; api: unknown }> = [];
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const invoked: unknown[][] = [];
  const ipcRenderer = {
    invoke: async (channel: string, ...args: unknown[]) => {
      invoked.push([channel, ...args]);
      return ipcMain ? ipcMain.invoke(channel, senderEvent(APP_ENTRY_URL), ...args) : { ok: true, value: 'pong' };
    },
    on: (channel: string, l: (...args: unknown[]) => void) =>
      void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(l),
    removeListener: (channel: string, l: (...args: unknown[]) => void) => void listeners.get(channel)?.delete(l),
  };
  const required: string[] = [];
  const module = { exports: {} };
  const sandbox = {
    module,
    exports: module.exports,
    process: { platform: 'linux' },
    require: (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`module not found: ${name} (sandboxed preload)`);
      return { contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void exposed.push({ key, api }) }, ipcRenderer };
    },
  };
  vm.runInNewContext(compile(), sandbox, { filename: 'preload.cjs' });
  const emit = (channel: string, value: unknown) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: ipcRenderer }, value);
  };
  return { exposed, invoked, listeners, required, emit, bridge: exposed[0]?.api as Required<IpcBridge> };
}

describe('preload build', () => {
  it('compiles to self-contained CommonJS that requires only electron', () => {
    const js = compile();
    expect(js).toContain('require("electron")');
    expect(js).not.toMatch(/^\s*import\s/m);
    expect(js).not.toMatch(/^\s*export\s/m);
    expect([...js.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
  });
  it('is part of the build (main.ts references it, so tsc emits dist/electron/preload.cjs)', () => {
    const config = ts.readConfigFile(`${root}tsconfig.build.json`, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram({
      rootNames: parsed.fileNames.filter((f) => f.includes('/electron/main.ts')),
      options: parsed.options,
    });
    const preload = program.getSourceFile(`${root}electron/preload.cts`);
    expect(preload).toBeDefined();
    const written: string[] = [];
    program.emit(preload, (fileName) => void written.push(fileName));
    expect(written).toContain(`${root}dist/electron/preload.cjs`);
  });
  it('repeats the channel names of the contract exactly', () => {
    const constant = (name: string) => new RegExp(`const ${name} = '([^']+)'`).exec(source)?.[1];
    expect(constant('IPC_CHANNEL')).toBe(IPC_CHANNEL);
    expect(constant('IPC_EVENT_CHANNEL')).toBe(IPC_EVENT_CHANNEL);
    expect(constant('DESKTOP_CHANNEL')).toBe(DESKTOP_CHANNEL);
    expect(constant('MENU_CHANNEL')).toBe(MENU_CHANNEL);
    expect(constant('MEDIA_BASE')).toBe(MEDIA_BASE);
  });
});

describe('window.constellate', () => {
  it('is the only thing exposed, frozen, with exactly the IpcBridge members', () => {
    const { exposed, bridge, required } = load();
    expect(exposed.map((e) => e.key)).toEqual(['constellate']);
    expect(required).toEqual(['electron']);
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.keys(bridge).sort()).toEqual(
      [
        'invoke',
        'onEvent',
        'mediaBase',
        'platform',
        'pickFolder',
        'revealInFolder',
        'openWithDefaultApp',
        'onMenuCommand',
        'pathForFile',
      ].sort(),
    );
    expect(bridge.mediaBase).toBe(MEDIA_BASE);
    expect(bridge.platform).toBe('linux');
    // Nothing that leaks ipcRenderer or Node.
    expect(JSON.stringify(Object.keys(bridge))).not.toMatch(/ipc|send|require/i);
  });

  it('invokes the API channel with (method, input)', async () => {
    const { bridge, invoked } = load();
    expect(await bridge.invoke('getStatus', undefined)).toEqual({ ok: true, value: 'pong' });
    expect(invoked).toEqual([[IPC_CHANNEL, 'getStatus', {}]]);
  });

  it('delivers events without the IpcRendererEvent, and unsubscribes', () => {
    const { bridge, emit, listeners } = load();
    const got: unknown[][] = [];
    const off = bridge.onEvent((...args) => void got.push(args));
    emit(IPC_EVENT_CHANNEL, { type: 'changed', what: 'groups' });
    expect(got).toEqual([[{ type: 'changed', what: 'groups' }]]);
    off();
    expect(listeners.get(IPC_EVENT_CHANNEL)?.size).toBe(0);
    const cmds: unknown[] = [];
    bridge.onMenuCommand((c) => void cmds.push(c));
    emit(MENU_CHANNEL, 'export');
    expect(cmds).toEqual(['export']);
  });

  it('sends desktop requests by image id on the desktop channel', async () => {
    const { bridge, invoked } = load();
    await bridge.revealInFolder(5);
    await bridge.openWithDefaultApp(6);
    await bridge.pickFolder();
    expect(invoked).toEqual([
      [DESKTOP_CHANNEL, 'revealInFolder', { imageId: 5 }],
      [DESKTOP_CHANNEL, 'openWithDefaultApp', { imageId: 6 }],
      [DESKTOP_CHANNEL, 'pickFolder', {}],
    ]);
  });

  it('carries the typed client end to end: client -> preload -> registerIpc -> dispatch -> host', async () => {
    const ipcMain = new FakeIpcMain();
    const host = hostDouble({ listGroups: async (input) => ({ groups: [], unsortedCount: 0, unsortedThreshold: 0.5, input }) });
    registerIpc(ipcMain, host, (e) => isTrustedSender(e));
    const { bridge } = load(ipcMain);
    const client = createClient(ipcTransport(bridge));
    expect(await client.listGroups({ search: 'cat' })).toMatchObject({ input: { sort: 'size', search: 'cat' } });
    await expect(client.removeLibrary({ id: 0 })).rejects.toMatchObject({ name: 'ApiError', code: 'invalid-input' });
    expect(client.thumbnailUrl(3)).toBe('constellate://media/thumb/3');
  });

  it('gives the client made from it (as the renderer makes it) the desktop services, end to end', async () => {
    const ipcMain = new FakeIpcMain();
    const host = hostDouble();
    host.files.set('image/7', '/photos/a.jpg');
    host.files.set('image/8', '/photos/notes.txt');
    const shown: string[] = [];
    const opened: string[] = [];
    registerIpc(ipcMain, host, (e) => isTrustedSender(e), {
      pickFolder: async () => '/photos',
      showItemInFolder: (p) => void shown.push(p),
      openPath: async (p) => (opened.push(p), ''),
    });
    const { bridge, emit } = load(ipcMain);
    const client = createClient(ipcTransport(bridge), bridge);
    await client.desktop!.revealInFolder!(7);
    await client.desktop!.openWithDefaultApp!(7);
    await expect(client.desktop!.openWithDefaultApp!(8)).rejects.toThrow('only image files are opened');
    expect([shown, opened]).toEqual([['/photos/a.jpg'], ['/photos/a.jpg']]);
    expect(await client.desktop!.pickFolder!()).toBe('/photos');
    const commands: string[] = [];
    client.desktop!.onMenuCommand!((c) => void commands.push(c));
    emit(MENU_CHANNEL, 'undo');
    expect(commands).toEqual(['undo']);
    // Browser mode: no bridge, no desktop services (the UI hides their buttons).
    expect(createClient(httpTransport('http://127.0.0.1:1/', 'token')).desktop).toBeUndefined();
  });
});
