// Where a named object lies in an x86-64 ELF file: its symbol (the
// dynamic ones survive --strip-all), mapped to a file offset through the
// segment that loads it; and the segments themselves. Enough of ELF64 for
// that, read from the file's bytes.

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;

/** A loaded segment: where it lies in memory and in the file, and how it is mapped. */
export interface ElfSegment {
  readonly vaddr: number;
  readonly offset: number;
  readonly filesz: number;
  readonly writable: boolean;
  readonly executable: boolean;
}

function checkElf(elf: Buffer): void {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
}

export function loadSegments(elf: Buffer): ElfSegment[] {
  checkElf(elf);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  return Array.from({ length: phnum }, (_, i) => phoff + i * phentsize)
    .filter((at) => elf.readUInt32LE(at) === PT_LOAD)
    .map((at) => {
      const flags = elf.readUInt32LE(at + 4);
      return { offset: Number(elf.readBigUInt64LE(at + 8)), vaddr: Number(elf.readBigUInt64LE(at + 0x10)), filesz: Number(elf.readBigUInt64LE(at + 0x20)), writable: (flags & PF_W) !== 0, executable: (flags & PF_X) !== 0 };
    });
}

/** The file offset of `bytes` bytes at `vaddr`, or null where no segment loads them from the file. */
export function fileOffset(segments: readonly ElfSegment[], vaddr: number, bytes = 1): number | null {
  const load = segments.find((l) => vaddr >= l.vaddr && vaddr + bytes <= l.vaddr + l.filesz);
  return load ? load.offset + vaddr - load.vaddr : null;
}

export interface ElfObject {
  readonly name: string;
  readonly vaddr: number;
  readonly offset: number;
  readonly size: number;
}

/** The symbols whose names match `pattern`, with their places in the file: the dynamic ones, or with `table` symtab those that strip removes. */
export function findObjects(elf: Buffer, pattern: RegExp, table: 'dynsym' | 'symtab' = 'dynsym'): ElfObject[] {
  const segments = loadSegments(elf);
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 0x18)), size: Number(elf.readBigUInt64LE(at + 0x20)), link: elf.readUInt32LE(at + 0x28), entsize: Number(elf.readBigUInt64LE(at + 0x38)) };
  };
  const wanted = table === 'dynsym' ? SHT_DYNSYM : SHT_SYMTAB;
  const found: ElfObject[] = [];
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== wanted) continue;
    const strtab = section(symtab.link);
    for (let at = symtab.offset; at < symtab.offset + symtab.size; at += symtab.entsize) {
      const nameAt = strtab.offset + elf.readUInt32LE(at);
      const name = elf.toString('latin1', nameAt, elf.indexOf(0, nameAt));
      if (!pattern.test(name)) continue;
      const vaddr = Number(elf.readBigUInt64LE(at + 8));
      const size = Number(elf.readBigUInt64LE(at + 16));
      const offset = fileOffset(segments, vaddr, Math.max(size, 1));
      if (offset !== null) found.push({ name, vaddr, offset, size });
    }
  }
  return found;
}
