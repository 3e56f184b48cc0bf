/** Hash routes (`#/group/12`): keeps the `?token=` query of browser mode untouched. */
import type { GroupRef } from '../../core/shared/contract.js';

export type ImageSort = 'confidence-asc' | 'confidence-desc' | 'name' | 'date' | 'date-desc';

export type Route =
  | { name: 'libraries' }
  | { name: 'groups' }
  | { name: 'group'; id: GroupRef }
  | { name: 'image'; id: number; group: GroupRef | null; sort: ImageSort; index: number | null }
  | { name: 'map' }
  | { name: 'review' }
  | { name: 'duplicates' };

const SORTS: ImageSort[] = ['confidence-asc', 'confidence-desc', 'name', 'date', 'date-desc'];

function parseGroupRef(s: string | null | undefined): GroupRef | null {
  if (s === 'unsorted') return 'unsorted';
  const n = Number(s);
  return Number.isInteger(n) && n > 0 ? n : null;
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const q = new URLSearchParams(query);
  switch (parts[0]) {
    case 'libraries':
      return { name: 'libraries' };
    case 'group': {
      const id = parseGroupRef(parts[1]);
      return id === null ? { name: 'groups' } : { name: 'group', id };
    }
    case 'image': {
      const id = Number(parts[1]);
      if (!Number.isInteger(id) || id <= 0) return { name: 'groups' };
      const sort = SORTS.includes(q.get('sort') as ImageSort) ? (q.get('sort') as ImageSort) : 'confidence-desc';
      const i = q.get('i');
      const index = i !== null && /^\d+$/.test(i) ? Number(i) : null;
      return { name: 'image', id, group: parseGroupRef(q.get('group')), sort, index };
    }
    case 'map':
      return { name: 'map' };
    case 'review':
      return { name: 'review' };
    case 'duplicates':
      return { name: 'duplicates' };
    default:
      return { name: 'groups' };
  }
}

export function formatRoute(r: Route): string {
  switch (r.name) {
    case 'group':
      return `#/group/${r.id}`;
    case 'image': {
      const q = new URLSearchParams();
      if (r.group !== null) q.set('group', String(r.group));
      q.set('sort', r.sort);
      if (r.index !== null) q.set('i', String(r.index));
      return `#/image/${r.id}?${q.toString()}`;
    }
    default:
      return `#/${r.name}`;
  }
}
