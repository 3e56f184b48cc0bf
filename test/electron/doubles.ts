/** Small recording doubles of the Electron objects the shell configures, and an in-test ApiHost. */
import type { ApiEvent, ApiHandlers, MethodName } from '../../core/shared/contract.js';
import type { ApiHost, MediaKind } from '../../core/api/host.js';

export class RecordingEmitter {
  readonly listeners = new Map<string, Array<(...args: never[]) => void>>();
  on(event: string, listener: (...args: never[]) => void): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return this;
  }
  once(event: string, listener: (...args: never[]) => void): this {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }
}

export class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeWebContents extends RecordingEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  destroyed = false;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class FakeIpcMain {
  readonly handlers = new Map<string, (...args: unknown[]) => unknown>();
  handle(channel: string, listener: (...args: never[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener as (...args: unknown[]) => unknown);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  invoke(channel: string, event: unknown, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`no handler for ${channel}`);
    return Promise.resolve().then(() => h(event, ...args));
  }
}

/** An IPC event as sent by a frame at `url` (top frame unless `parent` is given). */
export function senderEvent(url: string, parent: unknown = null): never {
  return { senderFrame: { url, parent } } as never;
}

export interface HostDouble extends ApiHost {
  calls: Array<{ method: MethodName; input: unknown }>;
  emit(event: ApiEvent): void;
  files: Map<string, string>;
}

/** A host whose handlers record their (validated) input and answer `{ method }`. */
export function hostDouble(overrides: Partial<Record<MethodName, (input: unknown) => Promise<unknown>>> = {}): HostDouble {
  const calls: HostDouble['calls'] = [];
  const listeners = new Set<(e: ApiEvent) => void>();
  const files = new Map<string, string>();
  const handlers = new Proxy({} as ApiHandlers, {
    get: (_t, name: string) => async (input: unknown) => {
      calls.push({ method: name as MethodName, input });
      const o = overrides[name as MethodName];
      return o ? o(input) : { method: name };
    },
  });
  return {
    calls,
    files,
    handlers,
    mediaFile: (kind: MediaKind, imageId: number) => files.get(`${kind}/${imageId}`) ?? null,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (event) => {
      for (const l of listeners) l(event);
    },
    close: async () => {},
  };
}
