/**
 * Names shared by the Electron main process modules. The preload (`preload.cts`) cannot import
 * these at run time (a sandboxed preload may only `require('electron')`), so it repeats the
 * strings it needs; `test/electron/preload.test.ts` checks that the copies agree.
 */
import { IPC_CHANNEL, IPC_EVENT_CHANNEL } from '../core/shared/contract.js';
import { MENU_COMMANDS, type MenuCommand } from '../core/shared/client.js';

export { IPC_CHANNEL, IPC_EVENT_CHANNEL };

/** The renderer's pages: `app://constellate/index.html`, served from `dist/renderer/`. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'constellate';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Thumbnails and images: `constellate://media/thumb/<id>` and `constellate://media/image/<id>`. */
export const MEDIA_SCHEME = 'constellate';
export const MEDIA_HOST = 'media';
export const MEDIA_BASE = `${MEDIA_SCHEME}://${MEDIA_HOST}/`;

/** Desktop-only requests from the renderer (folder picker, reveal, open). */
export const DESKTOP_CHANNEL = 'constellate:desktop';
/** Menu commands the renderer handles itself (e.g. opening its export dialog). */
export const MENU_CHANNEL = 'constellate:menu';

export const DESKTOP_ACTIONS = ['pickFolder', 'revealInFolder', 'openWithDefaultApp'] as const;
export type DesktopAction = (typeof DESKTOP_ACTIONS)[number];

export { MENU_COMMANDS, type MenuCommand };
