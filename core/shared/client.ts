/**
 * The UI's only way into the core: one typed function per contract method, over either
 * transport. Under Electron the preload script exposes `window.constellate` (IPC); in browser
 * mode (and tests) calls go over HTTP to `constellate serve` with the per-launch token.
 * No Node or DOM imports beyond fetch/EventSource, which both environments have.
 */
import { MEDIA, methods, type Api, type ApiErrorBody, type ApiEvent, type MethodName } from './contract.js';

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorBody['error']['code'],
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The shape `electron/preload.ts` exposes on `window.constellate`. */
export interface IpcBridge {
  invoke(method: string, input: unknown): Promise<{ ok: true; value: unknown } | ({ ok: false } & ApiErrorBody)>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** Base URL of the custom protocol serving thumbnails and images, e.g. `constellate://media/`. */
  mediaBase: string;
  // ---- desktop-only extras (present under Electron, absent in browser mode) ----
  /** `process.platform` of the desktop app ('darwin', 'win32', 'linux'). */
  platform?: string;
  /** The native folder picker; resolves to the chosen folder, or null when cancelled. */
  pickFolder?(): Promise<string | null>;
  /** Shows the image's file in the system file manager. Rejects if the image is unknown. */
  revealInFolder?(imageId: number): Promise<void>;
  /** Opens the image's file with the system's default app for its type. */
  openWithDefaultApp?(imageId: number): Promise<void>;
  /** Commands from the application menu that the page handles itself. Returns unsubscribe. */
  onMenuCommand?(listener: (command: MenuCommand) => void): () => void;
  /** The path of a file or folder dropped on the page (Electron's webUtils; a page cannot see it otherwise). */
  pathForFile?(file: unknown): string;
}

/**
 * Application-menu commands the page carries out itself, so a menu item does what the same
 * button or key in the page does (undo with its toast, export with its dialog, ...).
 */
export const MENU_COMMANDS = ['add-folder', 'export', 'undo', 'redo', 'find', 'regroup', 'shortcuts'] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** The desktop-only part of the bridge: what a Client offers under Electron and lacks elsewhere. */
export type Desktop = Omit<IpcBridge, 'invoke' | 'onEvent' | 'mediaBase'>;

export interface Transport {
  call(method: MethodName, input: unknown): Promise<unknown>;
  subscribe(listener: (event: ApiEvent) => void): () => void;
  mediaUrl(path: string): string;
}

export function httpTransport(baseUrl: string, token: string, fetchImpl: typeof fetch = fetch): Transport {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    async call(method, input) {
      const res = await fetchImpl(`${base}api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-constellate-token': token },
        body: JSON.stringify(input ?? {}),
      });
      const body = (await res.json()) as unknown;
      if (!res.ok) {
        const err = (body as ApiErrorBody).error ?? { code: 'internal', message: res.statusText };
        throw new ApiError(err.code, err.message);
      }
      return body;
    },
    subscribe(listener) {
      const source = new EventSource(`${base}api/events?token=${encodeURIComponent(token)}`);
      source.onmessage = (msg) => listener(JSON.parse(msg.data as string) as ApiEvent);
      return () => source.close();
    },
    mediaUrl(path) {
      return `${base}${path}?token=${encodeURIComponent(token)}`;
    },
  };
}

export function ipcTransport(bridge: IpcBridge): Transport {
  return {
    async call(method, input) {
      const res = await bridge.invoke(method, input ?? {});
      if (!res.ok) throw new ApiError(res.error.code, res.error.message);
      return res.value;
    },
    subscribe: (listener) => bridge.onEvent(listener),
    mediaUrl: (path) => `${bridge.mediaBase}${path}`,
  };
}

export interface Client extends Api {
  subscribe(listener: (event: ApiEvent) => void): () => void;
  thumbnailUrl(imageId: number): string;
  imageUrl(imageId: number): string;
  /** Desktop services (folder picker, show in folder, open, menu); absent in browser mode. */
  desktop?: Desktop;
}

export function createClient(transport: Transport, desktop?: Desktop): Client {
  const api = {} as Record<MethodName, (input: unknown) => Promise<unknown>>;
  for (const name of Object.keys(methods) as MethodName[]) {
    api[name] = (input) => transport.call(name, input);
  }
  return {
    ...(api as unknown as Api),
    subscribe: (listener) => transport.subscribe(listener),
    thumbnailUrl: (imageId) => transport.mediaUrl(MEDIA.thumbnail(imageId)),
    imageUrl: (imageId) => transport.mediaUrl(MEDIA.image(imageId)),
    ...(desktop ? { desktop } : {}),
  };
}
