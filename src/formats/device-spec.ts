// root= as dracut and booster take it: a device path, or a tag to look for.

type TagKind = 'label' | 'uuid' | 'partuuid' | 'partlabel';
export type RootSpec = { readonly kind: 'path'; readonly path: string } | { readonly kind: TagKind; readonly value: string };

const TAGS: readonly [string, TagKind][] = [
  ['LABEL=', 'label'],
  ['UUID=', 'uuid'],
  ['PARTUUID=', 'partuuid'],
  ['PARTLABEL=', 'partlabel'],
];
const LINK_DIRS: readonly [string, TagKind][] = [
  ['/dev/disk/by-label/', 'label'],
  ['/dev/disk/by-uuid/', 'uuid'],
  ['/dev/disk/by-partuuid/', 'partuuid'],
  ['/dev/disk/by-partlabel/', 'partlabel'],
];

/** udev's encoding of names in /dev/disk/by-*: unsafe bytes as \xHH. */
export function udevEscape(value: string): string {
  return [...Buffer.from(value)].map((b) => (/[A-Za-z0-9#+\-.:=@_]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

function udevUnescape(name: string): string {
  return Buffer.from(name.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

export function parseRootSpec(text: string): RootSpec | null {
  for (const [prefix, kind] of TAGS) {
    if (text.startsWith(prefix)) {
      const value = text.slice(prefix.length).replace(/^"(.*)"$/, '$1');
      return value === '' ? null : { kind, value };
    }
  }
  // Links that we make ourselves (udev would): read them as the tag they stand for.
  for (const [dir, kind] of LINK_DIRS) {
    if (text.startsWith(dir) && text.length > dir.length) return { kind, value: udevUnescape(text.slice(dir.length)) };
  }
  return /^\/dev\/./.test(text) ? { kind: 'path', path: text } : null;
}

export function showSpec(spec: RootSpec): string {
  return spec.kind === 'path' ? spec.path : `${spec.kind.toUpperCase()}=${spec.value}`;
}
