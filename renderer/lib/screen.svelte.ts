/**
 * Plumbing every screen repeated: handing the app its key handler while mounted, and keeping
 * only the latest of overlapping loads.
 */
import type { AppState } from './app.svelte.js';
import type { Command } from './keyboard.js';

/**
 * Makes `handler` the app's screen key handler while the calling component is mounted. `app`
 * is a getter so a component passes its prop, not the prop's first value.
 */
export function useScreenKeys(getApp: () => AppState, handler: (cmd: Command) => boolean): void {
  $effect(() => {
    const app = getApp();
    app.screenKeys = handler;
    return () => {
      // Another screen may have taken over already (it mounts before this one unmounts).
      if (app.screenKeys === handler) app.screenKeys = null;
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
