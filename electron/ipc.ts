/**
 * The IPC transport: the same contract the HTTP server serves, through `dispatch` (schema
 * validation first), on one channel; plus a few desktop-only requests (native folder picker,
 * reveal in file manager, open with the default app). Every handler checks its sender first.
 */
import { extname } from 'node:path';
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import type { ApiErrorBody, ApiEvent } from '../core/shared/contract.js';
import { dispatch, toErrorBody, type ApiHost } from '../core/api/host.js';
import { DESKTOP_CHANNEL, IPC_CHANNEL, IPC_EVENT_CHANNEL } from './constants.js';

export type IpcResult = { ok: true; value: unknown } | ({ ok: false } & ApiErrorBody);
export type SenderCheck = (event: IpcMainInvokeEvent | IpcMainEvent) => boolean;
export type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;

/** What the desktop-only requests need from Electron (dialog, shell), injected. */
export interface DesktopServices {
  /** The native folder picker; null when cancelled. */
  pickFolder(): Promise<string | null>;
  /** shell.showItemInFolder */
  showItemInFolder(path: string): void;
  /** shell.openPath: resolves to '' on success, else an error message. */
  openPath(path: string): Promise<string>;
}

/** The files "open with default app" may hand to the OS: images only, never executables or scripts. */
export const OPENABLE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
  '.hif',
  '.jxl',
]);

const imageRef = z.object({ imageId: z.number().int().positive() }).strict();
const desktopRequests = {
  pickFolder: z.object({}).strict(),
  revealInFolder: imageRef,
  openWithDefaultApp: imageRef,
} as const;

export class RefusedSenderError extends Error {
  constructor() {
    super('IPC refused: the sender is not the app page');
    this.name = 'RefusedSenderError';
  }
}

function fail(code: ApiErrorBody['error']['code'], message: string): IpcResult {
  return { ok: false, error: { code, message } };
}

/** The API channel handler, exported for tests. Throws (rejecting the renderer's invoke) for an untrusted sender. */
export function createApiHandler(host: ApiHost, isTrustedSender: SenderCheck) {
  return async (event: IpcMainInvokeEvent, method: unknown, input: unknown): Promise<IpcResult> => {
    if (!isTrustedSender(event)) throw new RefusedSenderError();
    if (typeof method !== 'string') return fail('invalid-input', 'method must be a string');
    try {
      return { ok: true, value: await dispatch(host, method, input) };
    } catch (err) {
      return { ok: false, ...toErrorBody(err) };
    }
  };
}

export function createDesktopHandler(host: Pick<ApiHost, 'mediaFile'>, desktop: DesktopServices, isTrustedSender: SenderCheck) {
  return async (event: IpcMainInvokeEvent, action: unknown, input: unknown): Promise<IpcResult> => {
    if (!isTrustedSender(event)) throw new RefusedSenderError();
    if (typeof action !== 'string' || !Object.prototype.hasOwnProperty.call(desktopRequests, action)) {
      return fail('not-found', `unknown desktop action "${String(action)}"`);
    }
    const name = action as keyof typeof desktopRequests;
    const parsed = desktopRequests[name].safeParse(input ?? {});
    if (!parsed.success)
      return fail('invalid-input', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
    try {
      if (name === 'pickFolder') return { ok: true, value: await desktop.pickFolder() };
      const { imageId } = parsed.data as z.infer<typeof imageRef>;
      const path = host.mediaFile('image', imageId);
      if (!path) return fail('not-found', `image ${imageId} not found`);
      if (name === 'revealInFolder') {
        desktop.showItemInFolder(path);
        return { ok: true, value: null };
      }
      if (!OPENABLE_EXTENSIONS.has(extname(path).toLowerCase())) return fail('invalid-input', 'only image files are opened');
      const error = await desktop.openPath(path);
      return error ? fail('internal', error) : { ok: true, value: null };
    } catch (err) {
      return { ok: false, ...toErrorBody(err) };
    }
  };
}

/**
 * Registers the API channel (and the desktop channel when `desktop` is given). Returns a function
 * removing them again.
 */
export function registerIpc(ipcMain: IpcMainLike, host: ApiHost, isTrustedSender: SenderCheck, desktop?: DesktopServices): () => void {
  ipcMain.handle(IPC_CHANNEL, createApiHandler(host, isTrustedSender));
  if (desktop) ipcMain.handle(DESKTOP_CHANNEL, createDesktopHandler(host, desktop, isTrustedSender));
  return () => {
    ipcMain.removeHandler(IPC_CHANNEL);
    if (desktop) ipcMain.removeHandler(DESKTOP_CHANNEL);
  };
}

export interface EventSink {
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
}

/** Pushes the host's events to the app's windows on `IPC_EVENT_CHANNEL`. Returns unsubscribe. */
export function forwardEvents(host: Pick<ApiHost, 'onEvent'>, targets: () => EventSink[]): () => void {
  return host.onEvent((event: ApiEvent) => {
    for (const t of targets()) if (!t.isDestroyed()) t.send(IPC_EVENT_CHANNEL, event);
  });
}
