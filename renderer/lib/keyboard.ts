/**
 * The keyboard map: one pure function from a key event to a command, shared by every screen,
 * plus the list the `?` overlay shows. Screens decide which commands they handle.
 */
export type Command =
  | { kind: 'move'; dx: number; dy: number; extend: boolean }
  | { kind: 'open' }
  | { kind: 'back' }
  | { kind: 'select-all' }
  | { kind: 'send'; n: number }
  | { kind: 'remove' }
  | { kind: 'pin' }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'help' }
  | { kind: 'zoom'; to: 'in' | 'out' | 'fit' | 'actual' }
  | { kind: 'page'; dir: 1 | -1 }
  | { kind: 'home' }
  | { kind: 'end' };

export interface KeyLike {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

export function isMac(platform: string = (globalThis as { navigator?: { platform?: string } }).navigator?.platform ?? ''): boolean {
  return /mac|iphone|ipad/i.test(platform);
}

export function keyToCommand(e: KeyLike, mac = isMac()): Command | null {
  const mod = mac ? !!e.metaKey : !!e.ctrlKey;
  const shift = !!e.shiftKey;
  if (e.altKey) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (mod) {
    if (key === 'z') return shift ? { kind: 'redo' } : { kind: 'undo' };
    if (key === 'y' && !mac) return { kind: 'redo' };
    if (key === 'a') return { kind: 'select-all' };
    return null;
  }
  // Ctrl/Cmd held the other way (e.g. Cmd on Linux) should not trigger plain-key commands.
  if (e.ctrlKey || e.metaKey) return null;
  switch (key) {
    case 'ArrowLeft':
      return { kind: 'move', dx: -1, dy: 0, extend: shift };
    case 'ArrowRight':
      return { kind: 'move', dx: 1, dy: 0, extend: shift };
    case 'ArrowUp':
      return { kind: 'move', dx: 0, dy: -1, extend: shift };
    case 'ArrowDown':
      return { kind: 'move', dx: 0, dy: 1, extend: shift };
    case 'PageDown':
      return { kind: 'page', dir: 1 };
    case 'PageUp':
      return { kind: 'page', dir: -1 };
    case 'Home':
      return { kind: 'home' };
    case 'End':
      return { kind: 'end' };
    case 'Enter':
      return { kind: 'open' };
    case 'Escape':
      return { kind: 'back' };
    case 'Delete':
    case 'Backspace':
      return { kind: 'remove' };
    case 'p':
    case ' ':
      return { kind: 'pin' };
    case '?':
      return { kind: 'help' };
    case '+':
    case '=':
      return { kind: 'zoom', to: 'in' };
    case '-':
      return { kind: 'zoom', to: 'out' };
    case '0':
      return { kind: 'zoom', to: 'fit' };
    case 'z':
      return { kind: 'zoom', to: 'actual' };
    default:
      if (/^[1-9]$/.test(key)) return { kind: 'send', n: Number(key) };
      // Shift+/ reports "?" on most layouts, but not all: accept it too.
      if (key === '/' && shift) return { kind: 'help' };
      return null;
  }
}

/** The commands that move a cursor about a grid: the arrows, Page Up/Down, Home and End. */
export function movesCursor(cmd: Command): boolean {
  return cmd.kind === 'move' || cmd.kind === 'page' || cmd.kind === 'home' || cmd.kind === 'end';
}

/** True when the event target is a text field: plain keys then belong to it, not to us. */
export function isTyping(target: unknown): boolean {
  // Structural (no DOM types) so this module also compiles and tests under Node.
  const el = target as { tagName?: unknown; type?: string; isContentEditable?: boolean } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !['checkbox', 'radio', 'range', 'button', 'submit'].includes(el.type ?? 'text');
  return el.isContentEditable === true;
}

/** Keys that move within a control: a slider's value, a radio group's choice. */
const NAV_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown']);
/** ARIA roles whose element activates on Enter/Space like a native button or link. */
const ACTIVATING_ROLES = new Set(['button', 'link', 'checkbox', 'radio', 'switch', 'tab', 'menuitem', 'option']);

/**
 * True when the focused `target` uses `key` itself, so the app's shortcut must not run (nor
 * preventDefault, which would cancel the control's own action): every plain key of a text
 * field (see isTyping), Enter and Space of any control (a button or link clicks, a checkbox
 * toggles: Enter must not open whatever is under the grid cursor instead), and the arrows,
 * Home/End and Page keys of a slider or radio (they change its value). Escape is never owned.
 */
export function controlOwnsKey(target: unknown, key: string): boolean {
  if (key === 'Escape') return false;
  if (isTyping(target)) return true;
  const el = target as { tagName?: unknown; type?: string; getAttribute?: (name: string) => string | null } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  const tag = el.tagName.toUpperCase();
  const type = (el.type ?? '').toLowerCase();
  if (NAV_KEYS.has(key)) return tag === 'INPUT' && (type === 'range' || type === 'radio');
  if (key !== 'Enter' && key !== ' ') return false;
  if (tag === 'BUTTON' || tag === 'INPUT' || tag === 'SUMMARY') return true;
  if (tag === 'A' && el.getAttribute?.('href') != null) return true;
  const role = el.getAttribute?.('role');
  return role != null && ACTIVATING_ROLES.has(role);
}

export const SHORTCUTS: Array<{ keys: string; what: string }> = [
  { keys: 'Tab / Shift + Tab', what: 'Go to the next / previous control; the image grid is one stop' },
  { keys: '← → ↑ ↓', what: 'Move the cursor (in the grid, once Tab has reached it)' },
  { keys: 'Page Up / Down, Home, End', what: 'Move the cursor a screen, to the first, to the last' },
  { keys: 'Shift + arrows / Shift-click', what: 'Select a range' },
  { keys: 'Ctrl/⌘-click', what: 'Toggle one image' },
  { keys: 'Ctrl/⌘ + A', what: 'Select all' },
  { keys: 'Enter', what: 'Open' },
  { keys: 'Esc', what: 'Back out / clear selection' },
  { keys: '1 – 9', what: 'Send the selection to the group with that number (on its card and in the Move list)' },
  { keys: 'P or Space', what: 'Pin (accept) the selection' },
  { keys: '+ / − , 0, Z', what: 'Image: zoom in / out, fit, 1:1 (the wheel, a pinch and a drag too)' },
  { keys: 'Delete', what: 'Remove from group (to Unsorted)' },
  { keys: 'Ctrl/⌘ + Z', what: 'Undo' },
  { keys: 'Shift + Ctrl/⌘ + Z', what: 'Redo' },
  { keys: '?', what: 'Show this help' },
];
