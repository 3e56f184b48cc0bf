/**
 * The renderer's state, one small class per concern, provided to every component through Svelte
 * context: `createApp(client)` makes them (main.ts, and each component test), `appContext(app)`
 * is the context to mount with, and a component asks for what it uses (`useNavigation()`, ...).
 */
import { getContext } from 'svelte';
import type { Client } from '../../../core/shared/client.js';
import type { Command } from '../keyboard.js';
import { Dialogs } from './dialogs.svelte.js';
import { Edits } from './edits.svelte.js';
import { Models } from './models.svelte.js';
import { GroupColours, Versions } from './freshness.svelte.js';
import { GroupKeys } from './groupKeys.svelte.js';
import { Navigation } from './navigation.svelte.js';
import { Notices } from './notices.svelte.js';
import { Session } from './session.svelte.js';

/** The current screen's key handler (returns true when it used the command); see useScreenKeys. */
export class ScreenKeys {
  handler: ((cmd: Command) => boolean) | null = null;
}

export interface App {
  client: Client;
  navigation: Navigation;
  notices: Notices;
  dialogs: Dialogs;
  colours: GroupColours;
  /** The number keys 1-9, one group each for the session. */
  groupKeys: GroupKeys;
  versions: Versions;
  edits: Edits;
  session: Session;
  keys: ScreenKeys;
  models: Models;
}

export function createApp(client: Client): App {
  const notices = new Notices();
  const groupKeys = new GroupKeys();
  const colours = new GroupColours(client, (groups) => groupKeys.sync(groups));
  const versions = new Versions(colours);
  const edits = new Edits(client, notices, versions);
  const models = new Models(client);
  const session = new Session(client, notices, versions, edits, models);
  return {
    client,
    navigation: new Navigation(),
    notices,
    dialogs: new Dialogs(),
    colours,
    groupKeys,
    versions,
    edits,
    session,
    keys: new ScreenKeys(),
    models,
  };
}

/** Follows the URL and the core's events, and fetches what the first screen needs; returns a stop function. */
export function startApp(app: App): () => void {
  app.navigation.start();
  const unsubscribe = app.client.subscribe((e) => app.session.onEvent(e));
  void app.session.refreshStatus();
  void app.edits.refreshHistory();
  void app.colours.refresh();
  void app.models.refresh();
  return unsubscribe;
}

const KEYS = {
  client: Symbol('client'),
  navigation: Symbol('navigation'),
  notices: Symbol('notices'),
  dialogs: Symbol('dialogs'),
  colours: Symbol('colours'),
  groupKeys: Symbol('groupKeys'),
  versions: Symbol('versions'),
  edits: Symbol('edits'),
  session: Symbol('session'),
  keys: Symbol('keys'),
  models: Symbol('models'),
} as const satisfies Record<keyof App, symbol>;

/** The context to mount the app (or a component under test) with. */
export function appContext(app: App): Map<symbol, unknown> {
  return new Map((Object.keys(KEYS) as Array<keyof App>).map((k) => [KEYS[k], app[k]]));
}

function use<K extends keyof App>(key: K): App[K] {
  const value = getContext<App[K] | undefined>(KEYS[key]);
  if (value === undefined) throw new Error(`no ${key} in context: mount with appContext(app)`);
  return value;
}

export const useClient = (): Client => use('client');
export const useNavigation = (): Navigation => use('navigation');
export const useNotices = (): Notices => use('notices');
export const useDialogs = (): Dialogs => use('dialogs');
export const useColours = (): GroupColours => use('colours');
export const useGroupKeys = (): GroupKeys => use('groupKeys');
export const useVersions = (): Versions => use('versions');
export const useEdits = (): Edits => use('edits');
export const useSession = (): Session => use('session');
export const useScreenKeysHolder = (): ScreenKeys => use('keys');
export const useModels = (): Models => use('models');
/** All of it, for the actions and menu commands that span several concerns. */
export const useApp = (): App => ({
  client: useClient(),
  navigation: useNavigation(),
  notices: useNotices(),
  dialogs: useDialogs(),
  colours: useColours(),
  groupKeys: useGroupKeys(),
  versions: useVersions(),
  edits: useEdits(),
  session: useSession(),
  keys: useScreenKeysHolder(),
  models: useModels(),
});
