/*
 * Run at build time, on the build machine only: an LD_AUDIT module that
 * writes, as the program exits, which pages of the main program's
 * read-only and executable segments it has mapped, from its own page
 * table (/proc/self/pagemap). A page is mapped once it was read, or when
 * the kernel mapped it beside one that was (fault-around), so the set is
 * what the program touched, and a little more. COWBOOT_HOT_RECORD names
 * the file the page addresses are appended to, one hex address a line.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

unsigned int la_version(unsigned int version) { return version; }

/* As the program starts: its pages leave the page cache, and its faults read no more than they ask. */
unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie) {
  static int done;
  (void)lmid;
  (void)cookie;
  if (done || map->l_name[0] != 0) return 0;
  done = 1;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
  unsigned long count = getauxval(AT_PHNUM);
  for (unsigned long i = 0; i < count; i++) {
    if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W)) continue;
    unsigned long start = ph[i].p_vaddr & ~4095UL, end = (ph[i].p_vaddr + ph[i].p_filesz + 4095) & ~4095UL;
    madvise((void *)(map->l_addr + start), end - start, MADV_RANDOM);
  }
  int fd = open("/proc/self/exe", O_RDONLY);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
  return 0;
}

__attribute__((destructor)) static void record(void) {
  const char *out = getenv("COWBOOT_HOT_RECORD");
  if (!out) return;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
  unsigned long count = getauxval(AT_PHNUM);
  FILE *f = fopen(out, "a");
  int pagemap = open("/proc/self/pagemap", O_RDONLY);
  if (!f || pagemap < 0) {
    perror(out);
    _exit(99);
  }
  for (unsigned long i = 0; i < count; i++) {
    if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W)) continue;
    unsigned long start = ph[i].p_vaddr & ~4095UL, end = (ph[i].p_vaddr + ph[i].p_filesz + 4095) & ~4095UL;
    for (unsigned long page = start; page < end; page += 4096) {
      unsigned long long entry = 0;
      if (pread(pagemap, &entry, 8, (off_t)(page / 4096 * 8)) == 8 && (entry >> 63)) fprintf(f, "%lx\n", page);
    }
  }
  fclose(f);
  close(pagemap);
}
