/*
 * cowboot's LD_AUDIT module for the runtime (cowboot build packs it with
 * node.hot): as the loader opens the main program, it maps the pages that
 * start Node from node.hot, a plain file the kernel unpacked into the
 * initramfs, over the same pages mapped from the runtime's squashfs image.
 * squashfs decompresses a whole 1 MiB block for every page it faults in;
 * these pages then cost nothing to read, and the rest stays on demand.
 *
 * Built without libc (-nostdlib -ffreestanding): the loader runs it before
 * any library is relocated. Every check failing means the file is left
 * alone and Node starts as it would without it: a miss costs speed, never
 * correctness. The file names the binary it was cut from by its build ID,
 * and the runtime's image it was cut for by that image's size and a
 * checksum of its tables (which list every block of the binary, so another
 * binary of the same build, its ICU data trimmed otherwise, does not
 * match); and it carries a checksum of every page it maps.
 */

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#if !defined(HOT_PATH) || !defined(IMAGE_PATH)
#error "cowboot build passes -DHOT_PATH and -DIMAGE_PATH, from HOT_PAGES and RUNTIME_IMAGE in src/layout/image-paths.ts"
#endif
#define HOT_MAGIC 0x31544f48574f43ULL /* "COWHOT1" */
#define PAGE 4096UL
#define MAP_FAILED_MAX (-4095UL)

struct hot_header {
  u64 magic;
  u64 id_vaddr;  /* where the binary's build ID lies once it is mapped */
  u8 id[20];
  u32 runs;
  u64 data_offset; /* page-aligned: the pages, run after run */
  u64 data_bytes;
  u64 sum;       /* of the data, as hot_sum computes it */
  u64 image_bytes; /* the runtime's squashfs image: its size */
  u64 image_sum;   /* and hot_sum over its tables, from its inode table to its end */
};
struct hot_run {
  u64 vaddr;
  u64 bytes;
  u64 offset; /* in the file */
  u32 prot;
  u32 pad;
};
/* The loader's link_map, as far as it is public (link.h). */
struct link_map {
  u64 l_addr;
  const char *l_name;
};

static long sys(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_fstat 5
#define SYS_mmap 9
#define SYS_munmap 11
#define PROT_READ 1
#define MAP_PRIVATE 2
#define MAP_FIXED 0x10
#define MAP_POPULATE 0x8000

static void say(const char *why) {
  static const char head[] = "cowboot: " HOT_PATH " is not used (";
  static const char tail[] = "); the runtime starts from its image alone\n";
  u64 n = 0;
  while (why[n]) n++;
  sys(SYS_write, 2, (long)head, sizeof head - 1, 0, 0, 0);
  sys(SYS_write, 2, (long)why, (long)n, 0, 0, 0);
  sys(SYS_write, 2, (long)tail, sizeof tail - 1, 0, 0, 0);
}

/* A 64-bit sum with a rotate, over whole words: cheap, and any flipped or shifted byte changes it. */
static u64 hot_sum(const u64 *words, u64 count) {
  u64 sum = 0;
  for (u64 i = 0; i < count; i++) sum = ((sum << 7) | (sum >> 57)) + words[i];
  return sum;
}

static int same(const u8 *a, const u8 *b, u64 n) {
  for (u64 i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

/* Whether the runtime's image is the one the file was cut for. */
static int same_image(const struct hot_header *h) {
  long fd = sys(SYS_open, (long)IMAGE_PATH, 0, 0, 0, 0, 0);
  if (fd < 0) return 0;
  u64 st[18];
  int same = 0;
  if (sys(SYS_fstat, fd, (long)st, 0, 0, 0, 0) == 0 && st[6] == h->image_bytes && h->image_bytes >= 96) {
    u64 image = (u64)sys(SYS_mmap, 0, (long)h->image_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    if (image <= MAP_FAILED_MAX) {
      /* The superblock: bytes_used at 40, inode_table_start at 64. */
      u64 used = *(const u64 *)(image + 40), tables = *(const u64 *)(image + 64) & ~7UL;
      if (used <= h->image_bytes && tables < used) same = hot_sum((const u64 *)(image + tables), (used - tables) / 8) == h->image_sum;
      sys(SYS_munmap, (long)image, (long)h->image_bytes, 0, 0, 0, 0);
    }
  }
  sys(SYS_close, fd, 0, 0, 0, 0, 0);
  return same;
}

static void overlay(u64 base) {
  long fd = sys(SYS_open, (long)HOT_PATH, 0, 0, 0, 0, 0);
  if (fd < 0) return; /* no hot file: an image built without one */
  u64 st[18];
  if (sys(SYS_fstat, fd, (long)st, 0, 0, 0, 0) != 0) goto out;
  u64 size = st[6];
  if (size < sizeof(struct hot_header)) { say("it is shorter than its header"); goto out; }
  u64 file = (u64)sys(SYS_mmap, 0, (long)size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (file > MAP_FAILED_MAX) { say("it could not be mapped"); goto out; }
  const struct hot_header *h = (const struct hot_header *)file;
  const struct hot_run *runs = (const struct hot_run *)(h + 1);
  if (h->magic != HOT_MAGIC) say("it is not a hot-pages file");
  else if (sizeof *h + (u64)h->runs * sizeof *runs > h->data_offset || h->data_offset % PAGE || h->data_bytes % PAGE || h->data_offset + h->data_bytes != size) say("its size does not match its header");
  else if (!same((const u8 *)(base + h->id_vaddr), h->id, sizeof h->id)) say("it was cut from another build of the runtime");
  else if (!same_image(h)) say("it was cut for another runtime image than " IMAGE_PATH);
  else if (hot_sum((const u64 *)(file + h->data_offset), h->data_bytes / 8) != h->sum) say("its checksum does not match: it is damaged");
  else {
    for (u32 i = 0; i < h->runs; i++) {
      const struct hot_run *r = &runs[i];
      if (r->offset < h->data_offset || r->offset + r->bytes > size) continue;
      /* MAP_FIXED replaces the squashfs-backed pages with the same bytes. */
      sys(SYS_mmap, (long)(base + r->vaddr), (long)r->bytes, r->prot, MAP_PRIVATE | MAP_FIXED, fd, (long)r->offset);
    }
  }
  sys(SYS_munmap, (long)file, (long)size, 0, 0, 0, 0);
out:
  sys(SYS_close, fd, 0, 0, 0, 0, 0);
}

unsigned int la_version(unsigned int version) { return version; }

unsigned int la_objopen(struct link_map *map, long lmid, u64 *cookie) {
  static int done;
  (void)lmid;
  (void)cookie;
  /* The main program is the one object with an empty name. */
  if (!done && map->l_name[0] == 0) {
    done = 1;
    overlay(map->l_addr);
  }
  return 0;
}
