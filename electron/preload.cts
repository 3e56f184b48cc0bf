/**
 * Preload (compiled to dist/electron/preload.cjs). Runs sandboxed, so it is CommonJS and
 * self-contained: the only module it may load is 'electron'. It exposes exactly the typed
 * bridge of core/shared/client.ts (`IpcBridge`) as `window.constellate`, never ipcRenderer itself.
 *
 * The channel names are repeated here because a sandboxed preload cannot import
 * core/shared/contract.ts at run time; test/electron/preload.test.ts checks that they match.
 */
// A sandboxed preload is CommonJS and may load only 'electron'; `import =` compiles to that require.
import electron = require('electron');
import type { IpcRendererEvent } from 'electron';
import type { IpcBridge, MenuCommand } from '../core/shared/client.js';
import type { ApiEvent } from '../core/shared/contract.js';

const IPC_CHANNEL = 'constellate:api';
const IPC_EVENT_CHANNEL = 'constellate:event';
const DESKTOP_CHANNEL = 'constellate:desktop';
const MENU_CHANNEL = 'constellate:menu';
const MEDIA_BASE = 'constellate://media/';

const { contextBridge, ipcRenderer, webUtils } = electron;

type Result = Awaited<ReturnType<IpcBridge['invoke']>>;

function subscribe<T>(channel: string, listener: (value: T) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  // Wrap so the renderer never sees the IpcRendererEvent (it carries `sender`, i.e. ipcRenderer).
  const wrapped = (_event: IpcRendererEvent, value: T) => listener(value);
  ipcRenderer.on(channel, wrapped);
  return () => {
    ipcRenderer.removeListener(channel, wrapped);
  };
}

async function desktop(action: string, input: unknown): Promise<unknown> {
  const res = (await ipcRenderer.invoke(DESKTOP_CHANNEL, action, input)) as Result;
  if (!res.ok) throw new Error(res.error.message);
  return res.value;
}

const bridge: Required<IpcBridge> = {
  invoke: (method, input) => ipcRenderer.invoke(IPC_CHANNEL, String(method), input ?? {}) as Promise<Result>,
  onEvent: (listener) => subscribe<ApiEvent>(IPC_EVENT_CHANNEL, listener),
  mediaBase: MEDIA_BASE,
  platform: process.platform,
  pickFolder: () => desktop('pickFolder', {}) as Promise<string | null>,
  revealInFolder: async (imageId) => {
    await desktop('revealInFolder', { imageId });
  },
  openWithDefaultApp: async (imageId) => {
    await desktop('openWithDefaultApp', { imageId });
  },
  onMenuCommand: (listener) => subscribe<MenuCommand>(MENU_CHANNEL, listener),
  // A folder dropped on the window (adds a library): its path, which only the preload can read.
  pathForFile: (file) => webUtils.getPathForFile(file as File),
};

contextBridge.exposeInMainWorld('constellate', Object.freeze(bridge));
