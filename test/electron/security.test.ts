/** Electron's security checklist, asserted against the real window options and handlers. */
import { describe, expect, it } from 'vitest';
import {
  applySessionSecurity,
  contentSecurityPolicy,
  createWindowOptions,
  hardenWebContents,
  isAllowedRequest,
  isTrustedSender,
  type SessionLike,
} from '../../electron/security.js';
import { APP_ENTRY_URL } from '../../electron/constants.js';
import { FakeEvent, FakeWebContents, senderEvent } from './doubles.js';

const DEV = { devServerUrl: 'http://localhost:5173/' };

describe('window options', () => {
  const options = createWindowOptions({ preload: '/app/dist/electron/preload.cjs' });
  const web = options.webPreferences!;

  it('turns on context isolation and the sandbox, and Node off everywhere', () => {
    expect(web.contextIsolation).toBe(true);
    expect(web.sandbox).toBe(true);
    expect(web.nodeIntegration).toBe(false);
    expect(web.nodeIntegrationInWorker).toBe(false);
    expect(web.nodeIntegrationInSubFrames).toBe(false);
  });
  it('keeps web security on and insecure/experimental features off', () => {
    expect(web.webSecurity).toBe(true);
    expect(web.allowRunningInsecureContent).toBe(false);
    expect(web.experimentalFeatures).toBe(false);
    expect(web.webviewTag).toBe(false);
    expect(web.navigateOnDragDrop).toBe(false);
  });
  it('loads the CommonJS preload and no DevTools unless in development', () => {
    expect(web.preload).toBe('/app/dist/electron/preload.cjs');
    expect(web.devTools).toBe(false);
    expect(createWindowOptions({ preload: '/p.cjs', isDev: true }).webPreferences!.devTools).toBe(true);
  });
  it('opens hidden (shown on ready-to-show) at the restored bounds', () => {
    expect(options.show).toBe(false);
    const restored = createWindowOptions({ preload: '/p.cjs', bounds: { x: 10, y: 20, width: 900, height: 700 } });
    expect(restored).toMatchObject({ x: 10, y: 20, width: 900, height: 700 });
  });
});

describe('content security policy', () => {
  const csp = contentSecurityPolicy();
  const directive = (name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));

  it('defaults to nothing and allows scripts only from the app (no inline, no eval)', () => {
    expect(directive('default-src')).toBe(`default-src 'none'`);
    expect(directive('script-src')).toBe(`script-src 'self'`);
    expect(csp).not.toContain('unsafe-eval');
    expect(directive('script-src')).not.toContain('unsafe-inline');
  });
  it('loads pixels only from the app and the media scheme, and nothing remote', () => {
    expect(directive('img-src')).toBe(`img-src 'self' constellate: data: blob:`);
    expect(directive('connect-src')).toBe(`connect-src 'self' constellate:`);
    expect(csp).not.toMatch(/https?:/);
    expect(csp).not.toContain('*');
  });
  it('refuses plugins, frames, forms and base rewriting', () => {
    for (const d of [`object-src 'none'`, `frame-src 'none'`, `base-uri 'none'`, `form-action 'none'`, `frame-ancestors 'none'`]) {
      expect(csp).toContain(d);
    }
    expect(contentSecurityPolicy({ meta: true })).not.toContain('frame-ancestors');
  });
  it('adds the dev server (and its HMR socket) only in development', () => {
    const dev = contentSecurityPolicy(DEV);
    expect(dev).toContain(`script-src 'self' http://localhost:5173`);
    expect(dev).toContain('ws://localhost:5173');
  });
});

describe('web contents: navigation, window.open, webview', () => {
  const contents = new FakeWebContents();
  hardenWebContents(contents);

  it('refuses navigation to anything outside the app', () => {
    for (const url of [
      'https://example.com/',
      'file:///etc/passwd',
      'http://localhost:5173/',
      'app://other/index.html',
      'javascript:alert(1)',
    ]) {
      const event = new FakeEvent();
      contents.emit('will-navigate', event, url);
      expect(event.defaultPrevented, url).toBe(true);
      const redirect = new FakeEvent();
      contents.emit('will-redirect', redirect, url);
      expect(redirect.defaultPrevented, url).toBe(true);
      const frame = new FakeEvent(url);
      contents.emit('will-frame-navigate', frame);
      expect(frame.defaultPrevented, url).toBe(true);
    }
    const own = new FakeEvent();
    contents.emit('will-navigate', own, APP_ENTRY_URL);
    expect(own.defaultPrevented).toBe(false);
  });
  it('denies every window.open', () => {
    expect(contents.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    expect(contents.windowOpenHandler?.({ url: APP_ENTRY_URL })).toEqual({ action: 'deny' });
  });
  it('refuses <webview>', () => {
    const event = new FakeEvent();
    contents.emit('will-attach-webview', event, {}, {});
    expect(event.defaultPrevented).toBe(true);
  });
  it('lets the dev server navigate only in development', () => {
    const dev = new FakeWebContents();
    hardenWebContents(dev, DEV);
    const event = new FakeEvent();
    dev.emit('will-navigate', event, 'http://localhost:5173/index.html');
    expect(event.defaultPrevented).toBe(false);
  });
});

function fakeSession() {
  const rec = {
    permissionRequest: null as null | ((wc: unknown, permission: string, cb: (granted: boolean) => void, details: unknown) => void),
    permissionCheck: null as null | ((...args: unknown[]) => boolean),
    deviceCheck: null as null | ((...args: unknown[]) => boolean),
    beforeRequest: null as null | {
      filter: unknown;
      listener: (details: { url: string; webContentsId?: number }, cb: (r: { cancel: boolean }) => void) => void;
    },
    headers: null as
      | null
      | ((
          details: { url: string; responseHeaders?: Record<string, string[]> },
          cb: (r: { responseHeaders: Record<string, string[]> }) => void,
        ) => void),
  };
  const session = {
    setPermissionRequestHandler: (h: typeof rec.permissionRequest) => (rec.permissionRequest = h),
    setPermissionCheckHandler: (h: typeof rec.permissionCheck) => (rec.permissionCheck = h),
    setDevicePermissionHandler: (h: typeof rec.deviceCheck) => (rec.deviceCheck = h),
    webRequest: {
      onBeforeRequest: (filter: unknown, listener: NonNullable<typeof rec.beforeRequest>['listener']) =>
        (rec.beforeRequest = { filter, listener }),
      onHeadersReceived: (listener: typeof rec.headers) => (rec.headers = listener),
    },
  };
  return { rec, session: session as unknown as SessionLike };
}

describe('session', () => {
  it('denies every permission request and check', () => {
    const { rec, session } = fakeSession();
    applySessionSecurity(session);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      let granted: boolean | undefined;
      rec.permissionRequest!({}, permission, (g) => (granted = g), {});
      expect(granted, permission).toBe(false);
      expect(rec.permissionCheck!({}, permission, APP_ENTRY_URL, {})).toBe(false);
    }
    expect(rec.deviceCheck!({})).toBe(false);
  });
  it('blocks remote content on every URL', () => {
    const { rec, session } = fakeSession();
    applySessionSecurity(session);
    expect(rec.beforeRequest!.filter).toEqual({ urls: ['<all_urls>'] });
    const cancelled = (url: string, webContentsId?: number) => {
      let result: boolean | undefined;
      rec.beforeRequest!.listener({ url, webContentsId }, (r) => (result = r.cancel));
      return result;
    };
    expect(cancelled('https://example.com/x.js', 1)).toBe(true);
    expect(cancelled('http://localhost:5173/', 1)).toBe(true);
    expect(cancelled('wss://example.com/', 1)).toBe(true);
    expect(cancelled('ftp://example.com/', 1)).toBe(true);
    expect(cancelled('file:///etc/passwd', 1)).toBe(true);
    expect(cancelled('app://evil/index.html', 1)).toBe(true);
    expect(cancelled(APP_ENTRY_URL, 1)).toBe(false);
    expect(cancelled('constellate://media/thumb/1', 1)).toBe(false);
    expect(cancelled('data:image/png;base64,AA', 1)).toBe(false);
    // The main process's own net.fetch of a library file (no webContents) goes through.
    expect(cancelled('file:///photos/a.jpg')).toBe(false);
  });
  it('lets only the dev server through in development', () => {
    expect(isAllowedRequest({ url: 'http://localhost:5173/src/main.ts', webContentsId: 1 }, DEV)).toBe(true);
    expect(isAllowedRequest({ url: 'ws://localhost:5173/', webContentsId: 1 }, DEV)).toBe(true);
    expect(isAllowedRequest({ url: 'http://localhost:8080/', webContentsId: 1 }, DEV)).toBe(false);
  });
  it('puts the CSP header on app pages, replacing any other', () => {
    const { rec, session } = fakeSession();
    applySessionSecurity(session, DEV);
    let headers: Record<string, string[]> | undefined;
    rec.headers!(
      { url: 'http://localhost:5173/', responseHeaders: { 'content-security-policy': ['default-src *'], 'x-a': ['1'] } },
      (r) => (headers = r.responseHeaders),
    );
    expect(headers).toEqual({ 'x-a': ['1'], 'Content-Security-Policy': [contentSecurityPolicy(DEV)] });
  });
});

describe('IPC sender check', () => {
  it('trusts only the top frame of the app page', () => {
    expect(isTrustedSender(senderEvent(APP_ENTRY_URL))).toBe(true);
    expect(isTrustedSender(senderEvent('app://constellate/deep/page.html'))).toBe(true);
    expect(isTrustedSender(senderEvent(APP_ENTRY_URL, { url: APP_ENTRY_URL }))).toBe(false);
    expect(isTrustedSender(senderEvent('https://example.com/'))).toBe(false);
    expect(isTrustedSender(senderEvent('file:///app/dist/renderer/index.html'))).toBe(false);
    expect(isTrustedSender(senderEvent('app://constellate.evil/index.html'))).toBe(false);
    expect(isTrustedSender({ senderFrame: null } as never)).toBe(false);
  });
  it('trusts the dev server only in development', () => {
    expect(isTrustedSender(senderEvent('http://localhost:5173/'))).toBe(false);
    expect(isTrustedSender(senderEvent('http://localhost:5173/'), DEV)).toBe(true);
  });
});
