/** Where the user is: the route, kept in the URL's hash so reloads and Back work. */
import { formatRoute, parseRoute, type Route } from '../router.js';

// Browser globals through a narrow structural type, so this module also type-checks (and runs
// in component tests) without the DOM lib.
const win = globalThis as unknown as {
  location?: { hash: string };
  addEventListener?: (type: 'hashchange', fn: () => void) => void;
  history?: { replaceState(data: unknown, unused: string, url: string): void };
};

export class Navigation {
  route = $state<Route>({ name: 'groups' });

  /** Follows the page's hash from now on. */
  start(): void {
    const loc = win.location;
    if (!loc) return;
    this.route = parseRoute(loc.hash);
    win.addEventListener?.('hashchange', () => (this.route = parseRoute(loc.hash)));
  }

  go(route: Route, replace = false): void {
    const hash = formatRoute(route);
    const loc = win.location;
    if (loc && loc.hash !== hash) {
      if (replace && win.history) win.history.replaceState(null, '', hash);
      else loc.hash = hash;
    }
    this.route = route;
  }

  back(): void {
    const r = this.route;
    if (r.name === 'image' && r.group !== null) this.go({ name: 'group', id: r.group });
    else if (r.name === 'group' || r.name === 'image') this.go({ name: 'groups' });
  }
}
