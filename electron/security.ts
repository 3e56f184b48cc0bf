/**
 * Electron's security checklist, as functions over the objects they configure, so each point is
 * asserted against the real options and handlers in test/electron/security.test.ts:
 * context isolation, sandbox, no Node in the renderer, web security, a strict CSP, no remote
 * content, navigation and window.open refused, permission requests denied, IPC sender checked.
 */
import type { BrowserWindowConstructorOptions, IpcMainEvent, IpcMainInvokeEvent, Rectangle, Session } from 'electron';
import { APP_HOST, APP_SCHEME, MEDIA_SCHEME } from './constants.js';

export interface SecurityOptions {
  /** Vite's dev server (`CONSTELLATE_DEV_SERVER_URL`), only when not packaged. Undefined in production. */
  devServerUrl?: string | undefined;
}

/** `scheme://host[:port]` of a URL, or null. (WHATWG `origin` is 'null' for custom schemes.) */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (!u.host) return null;
    return `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

/** The origins the renderer's own pages may come from. */
export function appOrigins(options: SecurityOptions = {}): string[] {
  const origins = [`${APP_SCHEME}://${APP_HOST}`];
  const dev = options.devServerUrl ? originOf(options.devServerUrl) : null;
  if (dev) origins.push(dev);
  return origins;
}

export function isAppUrl(url: string, options: SecurityOptions = {}): boolean {
  const origin = originOf(url);
  return origin !== null && appOrigins(options).includes(origin);
}

/**
 * The renderer's Content-Security-Policy. Scripts only from the app itself (no inline, no eval),
 * pixels only from the app and the media scheme, no plugins, frames, forms or remote hosts.
 * `style-src 'unsafe-inline'` because Svelte writes `style=` attributes. `meta: true` gives the
 * `<meta http-equiv>` variant (without frame-ancestors, which a meta tag cannot carry).
 */
export function contentSecurityPolicy(options: SecurityOptions & { meta?: boolean } = {}): string {
  const dev = options.devServerUrl ? originOf(options.devServerUrl) : null;
  const devWs = dev ? dev.replace(/^http/, 'ws') : null;
  const extra = (...xs: Array<string | null>) =>
    xs
      .filter((x): x is string => !!x)
      .map((x) => ` ${x}`)
      .join('');
  const directives = [
    `default-src 'none'`,
    `script-src 'self'${extra(dev)}`,
    `style-src 'self' 'unsafe-inline'${extra(dev)}`,
    `img-src 'self' ${MEDIA_SCHEME}: data: blob:${extra(dev)}`,
    `media-src 'self' ${MEDIA_SCHEME}:`,
    `font-src 'self' data:${extra(dev)}`,
    `connect-src 'self' ${MEDIA_SCHEME}:${extra(dev, devWs)}`,
    `worker-src 'self' blob:`,
    `manifest-src 'self'`,
    `object-src 'none'`,
    `frame-src 'none'`,
    `base-uri 'none'`,
    `form-action 'none'`,
  ];
  if (!options.meta) directives.push(`frame-ancestors 'none'`);
  return directives.join('; ');
}

export interface WindowOptionsInput extends SecurityOptions {
  /** Absolute path of the compiled preload, `dist/electron/preload.cjs`. */
  preload: string;
  bounds?: Partial<Rectangle> | undefined;
  title?: string;
  isDev?: boolean;
}

/** The main window's options: every security-relevant web preference spelled out. */
export function createWindowOptions(input: WindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    title: input.title ?? 'Constellate',
    width: input.bounds?.width ?? 1280,
    height: input.bounds?.height ?? 820,
    ...(input.bounds?.x !== undefined && input.bounds?.y !== undefined ? { x: input.bounds.x, y: input.bounds.y } : {}),
    minWidth: 720,
    minHeight: 480,
    show: false,
    backgroundColor: '#111318',
    webPreferences: {
      preload: input.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: input.isDev === true,
    },
  };
}

/** The slice of WebContents the hardening needs (a recording double in tests). */
export interface WebContentsLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

/**
 * Refuses navigation away from the app, every window.open/target=_blank, redirects and <webview>.
 * Applied to every WebContents the app creates (`app.on('web-contents-created')`).
 */
export function hardenWebContents(contents: WebContentsLike, options: SecurityOptions = {}): void {
  const refuseUnlessApp = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url, options)) event.preventDefault();
  };
  contents.on('will-navigate', refuseUnlessApp);
  contents.on('will-frame-navigate', (event: { preventDefault(): void; url: string }) => refuseUnlessApp(event, event.url));
  contents.on('will-redirect', refuseUnlessApp);
  contents.on('will-attach-webview', (event: { preventDefault(): void }) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/**
 * Which requests a session lets through: the app's own schemes, data/blob, devtools, and the dev
 * server in development. Remote hosts never; `file:` only for the main process's own `net.fetch`
 * (no webContents), never for a page.
 */
export function isAllowedRequest(details: { url: string; webContentsId?: number | undefined }, options: SecurityOptions = {}): boolean {
  let protocol: string;
  try {
    protocol = new URL(details.url).protocol;
  } catch {
    return false;
  }
  switch (protocol) {
    case `${APP_SCHEME}:`:
      return isAppUrl(details.url);
    case `${MEDIA_SCHEME}:`:
    case 'data:':
    case 'blob:':
    case 'devtools:':
      return true;
    case 'file:':
      return details.webContentsId === undefined;
    case 'http:':
    case 'https:':
    case 'ws:':
    case 'wss:':
      return options.devServerUrl !== undefined && isAppUrl(details.url.replace(/^ws/, 'http'), options);
    default:
      return false;
  }
}

export type SessionLike = Pick<
  Session,
  'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler' | 'webRequest'
>;

/** Denies every permission, blocks remote content and adds the CSP header to dev-server pages. */
export function applySessionSecurity(session: SessionLike, options: SecurityOptions = {}): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => {
    callback({ cancel: !isAllowedRequest(details, options) });
  });
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...(details.responseHeaders ?? {}) };
    if (isAppUrl(details.url, options)) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'content-security-policy') delete headers[key];
      headers['Content-Security-Policy'] = [contentSecurityPolicy(options)];
    }
    callback({ responseHeaders: headers });
  });
}

type SenderEvent = Pick<IpcMainInvokeEvent | IpcMainEvent, 'senderFrame'>;

/**
 * IPC sender check: only the top frame of a page served from the app's origin (never a subframe,
 * never a page that navigated elsewhere) may call the API.
 */
export function isTrustedSender(event: SenderEvent, options: SecurityOptions = {}): boolean {
  const frame = event.senderFrame;
  if (!frame) return false;
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url, options);
}
