/** Window size/position: saved debounced to userData, restored only when on screen. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_SIZE,
  loadWindowState,
  restoreBounds,
  saveWindowState,
  trackWindowState,
  type WindowState,
} from '../../electron/windowState.js';
import { suiteTempDir, testTempDir } from '../helpers/tempDir.js';
import { RecordingEmitter } from './doubles.js';

const screen = [{ x: 0, y: 0, width: 1920, height: 1050 }];
const state = (s: Partial<WindowState>): WindowState => ({
  x: 100,
  y: 80,
  width: 1000,
  height: 700,
  maximized: false,
  fullScreen: false,
  ...s,
});

describe('restoreBounds', () => {
  it('restores saved bounds that are on a display', () => {
    expect(restoreBounds(state({}), screen)).toEqual({ x: 100, y: 80, width: 1000, height: 700 });
    // On a second display to the right.
    expect(restoreBounds(state({ x: 2000 }), [...screen, { x: 1920, y: 0, width: 2560, height: 1400 }])).toMatchObject({ x: 2000 });
  });
  it('drops the position when the window would be off screen (display unplugged)', () => {
    expect(restoreBounds(state({ x: 3000 }), screen)).toEqual({ width: 1000, height: 700 });
    expect(restoreBounds(state({ y: -650 }), screen)).toEqual({ width: 1000, height: 700 });
  });
  it('falls back to the default size with nothing saved or a window larger than any display', () => {
    expect(restoreBounds(null, screen)).toEqual(DEFAULT_SIZE);
    expect(restoreBounds(state({ x: 5000, width: 4000, height: 3000 }), screen)).toEqual(DEFAULT_SIZE);
  });
});

describe('state file', () => {
  const dir = suiteTempDir('constellate-winstate-');
  it('round-trips and ignores malformed files', () => {
    const file = join(dir, 'sub', 'window-state.json');
    expect(loadWindowState(file)).toBeNull();
    saveWindowState(file, state({ maximized: true }));
    expect(loadWindowState(file)).toEqual(state({ maximized: true }));
    writeFileSync(file, '{"x": "left"}');
    expect(loadWindowState(file)).toBeNull();
    writeFileSync(file, 'not json');
    expect(loadWindowState(file)).toBeNull();
  });
});

describe('trackWindowState', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  class FakeWindow extends RecordingEmitter {
    bounds = { x: 10, y: 20, width: 800, height: 600 };
    getNormalBounds = () => this.bounds;
    isMaximized = () => false;
    isFullScreen = () => false;
    isDestroyed = () => false;
  }

  it('writes once, debounced, after moves and resizes, and at once on close', () => {
    const win = new FakeWindow();
    const save = vi.fn();
    trackWindowState(win, '/state.json', { debounceMs: 500, save });
    win.emit('move');
    win.bounds = { x: 30, y: 40, width: 900, height: 650 };
    win.emit('resize');
    vi.advanceTimersByTime(499);
    expect(save).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(save).toHaveBeenCalledTimes(1);
    expect(save).toHaveBeenLastCalledWith('/state.json', { x: 30, y: 40, width: 900, height: 650, maximized: false, fullScreen: false });
    win.emit('resize');
    win.emit('close');
    expect(save).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(1000);
    expect(save).toHaveBeenCalledTimes(2);
  });

  it('writes the real file', () => {
    const file = join(testTempDir('constellate-winstate-'), 'window-state.json');
    const win = new FakeWindow();
    trackWindowState(win, file);
    win.emit('close');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ x: 10, y: 20, width: 800, height: 600 });
  });
});
