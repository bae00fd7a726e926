// Where a named object lies in an x86-64 ELF file: its dynamic symbol
// (which --strip-all keeps), mapped to a file offset through the segment
// that loads it. Enough of ELF64 for that, read from the file's bytes.

const SHT_DYNSYM = 11;
const PT_LOAD = 1;

export interface ElfObject {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

/** The dynamic symbols whose names match `pattern`, with their places in the file. */
export function findDynamicObjects(elf: Buffer, pattern: RegExp): ElfObject[] {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 0x18)), size: Number(elf.readBigUInt64LE(at + 0x20)), link: elf.readUInt32LE(at + 0x28), entsize: Number(elf.readBigUInt64LE(at + 0x38)) };
  };
  const loads = Array.from({ length: phnum }, (_, i) => phoff + i * phentsize)
    .filter((at) => elf.readUInt32LE(at) === PT_LOAD)
    .map((at) => ({ offset: Number(elf.readBigUInt64LE(at + 8)), vaddr: Number(elf.readBigUInt64LE(at + 0x10)), filesz: Number(elf.readBigUInt64LE(at + 0x20)) }));
  const found: ElfObject[] = [];
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== SHT_DYNSYM) continue;
    const strtab = section(symtab.link);
    for (let at = symtab.offset; at < symtab.offset + symtab.size; at += symtab.entsize) {
      const nameAt = strtab.offset + elf.readUInt32LE(at);
      const name = elf.toString('latin1', nameAt, elf.indexOf(0, nameAt));
      if (!pattern.test(name)) continue;
      const vaddr = Number(elf.readBigUInt64LE(at + 8));
      const size = Number(elf.readBigUInt64LE(at + 16));
      const load = loads.find((l) => vaddr >= l.vaddr && vaddr + size <= l.vaddr + l.filesz);
      if (load) found.push({ name, offset: load.offset + vaddr - load.vaddr, size });
    }
  }
  return found;
}
