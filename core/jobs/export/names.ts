/**
 * The names a folder export creates: group folders made safe on every system, and every file
 * and folder name cut to fit the filesystem's limit on one name, numbered " (2)", " (3)", ...
 * within that limit. The dry run and the export name files with these same functions, so the
 * preview shows exactly the names the export writes.
 */
import path from 'node:path';

/**
 * The longest name, in UTF-8 bytes, that the usual filesystems take: ext4, XFS, Btrfs and APFS
 * count 255 bytes, NTFS and exFAT 255 UTF-16 units (never more units than UTF-8 bytes, so 255
 * bytes fit there too). A longer name fails with ENAMETOOLONG: a group named "家族旅行の写真" x 17
 * is 119 characters but 357 bytes, and " (2)" on a 254-byte file name makes 258.
 */
export const MAX_NAME_BYTES = 255;

/**
 * Whether `name` fits every usual filesystem. HFS+ (and macOS's SMB client) store a name
 * decomposed, in at most 255 UTF-16 units: an accented letter that is 2 bytes composed ("ǖ")
 * can be 3 units decomposed, so that count is checked too.
 */
export function nameFits(name: string): boolean {
  return Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES && name.normalize('NFD').length <= MAX_NAME_BYTES;
}

const GRAPHEMES = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * The longest start of `text` for which `fits` holds. Cut between user-perceived characters, so
 * an accent stays on its letter and a flag or a family emoji stays whole; a single "character"
 * longer than the room (a letter under dozens of combining marks) is cut between code points,
 * which still never splits a surrogate pair (a lone half is an invalid name on some systems).
 */
function longestStart(text: string, fits: (s: string) => boolean): string {
  let kept = '';
  for (const { segment } of GRAPHEMES.segment(text)) {
    if (fits(kept + segment)) {
      kept += segment;
      continue;
    }
    if (kept === '') kept = longestCodePoints(segment, fits);
    break;
  }
  return kept;
}

function longestCodePoints(text: string, fits: (s: string) => boolean): string {
  let kept = '';
  for (const cp of text) {
    if (!fits(kept + cp)) break;
    kept += cp;
  }
  return kept;
}

/**
 * `stem + tail` if that fits (`fits`: nameFits by default), else the stem cut until it does and
 * the tail kept whole (the extension, the " (2)"). What the cut leaves at its end is stripped:
 * Windows refuses a name ending in a dot or a space, and "name . (2).jpg" reads badly.
 */
export function fitName(stem: string, tail = '', fits: (name: string) => boolean = nameFits): string {
  if (fits(stem + tail)) return stem + tail;
  const cut = longestStart(stem, (s) => fits(s + tail));
  return (cut.replace(/[. ]+$/, '') || cut) + tail;
}

/**
 * An extension longer than this is no image's (a name like "notes.see the 2019 album" has none):
 * it is part of the name, cut with it, rather than kept whole and leaving no room for the rest.
 */
const MAX_EXTENSION_BYTES = 16;

/** `name.ext` for i = 1, else `name (i).ext`, the name cut to fit (see fitName). */
export function numbered(file: string, i: number): string {
  let ext = path.extname(file);
  if (Buffer.byteLength(ext, 'utf8') > MAX_EXTENSION_BYTES) ext = '';
  const stem = file.slice(0, file.length - ext.length);
  return fitName(stem, `${i === 1 ? '' : ` (${i})`}${ext}`);
}

/** Long group names are cut shorter than the filesystem would allow: a folder name is read in a list, and paths stay short on Windows. */
const MAX_FOLDER_CHARS = 120;

const folderFits = (name: string) => Array.from(name).length <= MAX_FOLDER_CHARS && nameFits(name);

/** A group's folder name that is valid on Windows, macOS and Linux, at most 120 characters and 255 bytes. */
export function safeFolderName(name: string): string {
  let s = name
    .normalize('NFC')
    .replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_')
    .trim();
  // Windows reserves these names with any extension too ("NUL.txt", "con.tar.gz"): the
  // underscore goes after the reserved word, where it breaks the match. Before the cut, which
  // keeps the start of the name, so the fixed name stays within the limits.
  s = s.replace(/^(con|prn|aux|nul|com\d|lpt\d)(?=[. ]|$)/i, '$1_');
  // Windows refuses a trailing dot or space, which the name may have as well as a cut.
  s = fitName(s, '', folderFits).replace(/[. ]+$/, '');
  return s || 'group';
}

/** A group folder's name, numbered (" (2)") when its name is taken, within the byte limit. */
export function numberedFolder(base: string, i: number): string {
  return i === 1 ? base : fitName(base, ` (${i})`);
}
