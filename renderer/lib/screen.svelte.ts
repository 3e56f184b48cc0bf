/**
 * Plumbing every screen repeated: handing the app its key handler while mounted, and keeping
 * only the latest of overlapping loads.
 */
import type { Command } from './keyboard.js';
import { useScreenKeysHolder } from './state/app.js';

/** Makes `handler` the app's screen key handler while the calling component is mounted. */
export function useScreenKeys(handler: (cmd: Command) => boolean): void {
  const keys = useScreenKeysHolder();
  $effect(() => {
    keys.handler = handler;
    return () => {
      // Another screen may have taken over already (it mounts before this one unmounts).
      if (keys.handler === handler) keys.handler = null;
    };
  });
}

/**
 * For loads that can overlap (a search typed fast, arrows through images): `begin()` at the
 * start of each returns `current()`, true until a later load has begun, so an older, slower
 * answer never overwrites a newer one.
 */
export function latestOnly(): { begin(): () => boolean } {
  let seq = 0;
  return {
    begin() {
      const my = ++seq;
      return () => my === seq;
    },
  };
}
