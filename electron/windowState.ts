/**
 * Remembers the main window's size, position and maximized state in
 * `<userData>/window-state.json`, written debounced while the window moves, and restored only
 * when it is still (mostly) on one of the current displays.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Rectangle } from 'electron';
import { z } from 'zod';

export const WINDOW_STATE_FILE = 'window-state.json';
export const DEFAULT_SIZE = { width: 1280, height: 820 } as const;

const stateSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().min(200).max(100_000),
  height: z.number().int().min(150).max(100_000),
  maximized: z.boolean().default(false),
  fullScreen: z.boolean().default(false),
});
export type WindowState = z.infer<typeof stateSchema>;

/** Reads the saved state; null if absent or malformed. */
export function loadWindowState(file: string): WindowState | null {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

/** Area of the intersection of two rectangles. */
function overlap(a: Rectangle, b: Rectangle): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * The bounds to open with: the saved ones if at least half the window (and its title bar's
 * top-left corner area) lies on one display's work area, else the default size, centred by Electron.
 */
export function restoreBounds(saved: WindowState | null, workAreas: Rectangle[]): Partial<Rectangle> & { width: number; height: number } {
  if (!saved) return { ...DEFAULT_SIZE };
  const bounds = { x: saved.x, y: saved.y, width: saved.width, height: saved.height };
  const titleBar = { x: saved.x, y: saved.y, width: Math.min(saved.width, 200), height: 40 };
  const visible = workAreas.some((area) => overlap(bounds, area) >= (bounds.width * bounds.height) / 2 && overlap(titleBar, area) > 0);
  if (visible) return bounds;
  // Keep the size if it fits a display, drop the position.
  const fits = workAreas.some((a) => saved.width <= a.width && saved.height <= a.height);
  return fits ? { width: saved.width, height: saved.height } : { ...DEFAULT_SIZE };
}

/** The slice of BrowserWindow the tracker needs. */
export interface TrackedWindow {
  on(
    event: 'resize' | 'move' | 'maximize' | 'unmaximize' | 'enter-full-screen' | 'leave-full-screen' | 'close',
    listener: () => void,
  ): unknown;
  getNormalBounds(): Rectangle;
  isMaximized(): boolean;
  isFullScreen(): boolean;
  isDestroyed(): boolean;
}

/**
 * Saves the window's state `debounceMs` after it last moved or resized, and at once on close.
 * Returns `flush` (save now, if anything is pending).
 */
export function trackWindowState(
  win: TrackedWindow,
  file: string,
  options: { debounceMs?: number; save?: (file: string, state: WindowState) => void } = {},
): { flush(): void } {
  const debounceMs = options.debounceMs ?? 500;
  const save = options.save ?? saveWindowState;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const snapshot = (): WindowState => {
    const b = win.getNormalBounds();
    return {
      x: Math.round(b.x),
      y: Math.round(b.y),
      width: Math.round(b.width),
      height: Math.round(b.height),
      maximized: win.isMaximized(),
      fullScreen: win.isFullScreen(),
    };
  };
  const write = () => {
    timer = undefined;
    if (win.isDestroyed()) return;
    try {
      save(file, snapshot());
    } catch (err) {
      console.warn(`constellate: could not save the window state: ${(err as Error).message}`);
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(write, debounceMs);
  };
  for (const e of ['resize', 'move', 'maximize', 'unmaximize', 'enter-full-screen', 'leave-full-screen'] as const) win.on(e, schedule);
  win.on('close', () => {
    if (timer) clearTimeout(timer);
    write();
  });
  return {
    flush() {
      if (timer) {
        clearTimeout(timer);
        write();
      }
    },
  };
}
