/**
 * The rules for group names that need the other groups: names tell groups apart in Move menus
 * and become export folders (case-insensitive on macOS and Windows), so two groups with images
 * never share one, whatever the case. (The rules for one name alone are in the contract.)
 */
import { ApiError } from '../shared/client.js';
import type { Store } from '../store/index.js';

/** The names of the groups with images, lower-cased, but those of `except`: name -> as written. */
function namesInUse(store: Store, except: readonly number[] = []): Map<string, string> {
  const groups = store.browse.groupSummaries({ threshold: -Infinity, typical: 0 });
  return new Map(groups.filter((g) => !except.includes(g.id)).map((g) => [g.name.toLowerCase(), g.name]));
}

/** Refuses `name` when a group with images (other than `except`) has it; `hint` says what to do instead. */
export function requireFreeName(store: Store, name: string, except: readonly number[], hint: string): void {
  const taken = namesInUse(store, except).get(name.toLowerCase());
  if (taken !== undefined) throw new ApiError('invalid-input', `A group is already called “${taken}”: ${hint}`);
}

/** Names for the new parts of a split of `base`: "base (2)", "base (3)", … skipping names in use. */
export function partNames(store: Store, base: string, count: number): string[] {
  const used = namesInUse(store);
  const out: string[] = [];
  for (let n = 2; out.length < count; n++) if (!used.has(`${base} (${n})`.toLowerCase())) out.push(`${base} (${n})`);
  return out;
}
