/* The reachability scan at exit. Every live block is sorted into memcheck's leak classes by a
 * conservative mark from the roots, as a conservative garbage collector would do it.
 *
 * Roots are the readable and writable mappings of the process, less the allocator's own memory
 * (the [heap], glibc's thread arenas, the mappings of large blocks), the agent's memory and
 * image, and the dead part of each thread's stack below its stack pointer. That takes in the
 * writable segments of every module, the live part of every stack, thread-local storage (in
 * the threads' stack mappings and the loader's mappings) and the program's own mappings.
 *
 * The marking rules are memcheck's (valgrind's mc_leakcheck.c): a pointer to a block's start
 * seen from a root, or from a block reached that way, makes the block still reachable; any
 * other way in (a pointer into its interior, or from a block only possibly reached) makes it
 * possibly lost. Then, in address order, each block left unreached leads a clique: the
 * unreached blocks it reaches are indirectly lost, and it is definitely lost unless a later
 * clique reaches it. Every word is read through process_vm_readv(), so a block that another
 * thread frees meanwhile cannot crash the program. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent-int.h"

enum { UNREACHED, INDIRECT, POSSIBLE, REACHABLE };

/* glibc's thread arenas are HEAP_MAX_SIZE-aligned mappings (64 MiB on 64-bit systems). */
#define ARENA_ALIGN (64ull << 20)
/* memcheck scans a stack from this far below its pointer (the x86-64 red zone). */
#define RED_ZONE 128
#define READ_BUF (1u << 20)
#define MAX_IOV 1024

struct blk {
    uint64_t p, size, ord;
    uint32_t state;
    uint32_t heuristic; /* reachable only by one of memcheck's heuristics */
};

struct map {
    uint64_t start, end;
    int rw, shared, skip;
};

struct scan {
    struct blk *b;
    size_t n;
    uint64_t lo, hi; /* every block lies in [lo, hi) */
    uint32_t *stack; /* the mark stack: block indices */
    size_t top;
    long clique; /* the leader in the clique phase, -1 while marking from the roots */
    uint8_t *buf;
    struct iovec *liov, *riov;
    int direct;        /* process_vm_readv was refused: read everything in place */
    int blocks_direct; /* read blocks in place (no other thread can free one meanwhile) */
    int pagemap;       /* /proc/self/pagemap, or -1 */
    pid_t pid;
    struct vt_range *excl, *merged; /* merged: room for cap_excl + n ranges */
    size_t n_excl, cap_excl;
    char *maps_text;
    size_t maps_text_cap;
    struct map *maps;
    size_t n_maps, maps_bytes;
    uint64_t root_bytes, heap_bytes;
    uint64_t threads, threads_sp;
};

/* Memory for the scan itself, from vt__map() so that it is excluded like the rest. Released
 * with unscratch() and the same size. */
static void *scratch(size_t n)
{
    return vt__map(n ? n : 1, 1);
}

static void unscratch(void *p, size_t n)
{
    vt__unmap(p, n ? n : 1);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads len bytes at addr into dst; returns how many could be read (up to the first page that
 * could not). */
static size_t read_mem(struct scan *S, uint64_t addr, void *dst, size_t len)
{
    if (S->direct) {
        memcpy(dst, (const void *)(uintptr_t)addr, len);
        return len;
    }
    struct iovec l = {dst, len}, r = {(void *)(uintptr_t)addr, len};
    ssize_t got = syscall(SYS_process_vm_readv, S->pid, &l, 1UL, &r, 1UL, 0UL);
    return got < 0 ? 0 : (size_t)got;
}

/* The block that address w falls in (memcheck counts a pointer to a zero-sized block's start),
 * or -1. */
static long find(const struct scan *S, uint64_t w)
{
    size_t lo = 0, hi = S->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (S->b[mid].p <= w)
            lo = mid;
        else
            hi = mid;
    }
    const struct blk *c = &S->b[lo];
    if (w >= c->p && (w - c->p < c->size || (c->size == 0 && w == c->p)))
        return (long)lo;
    return -1;
}

static void push(struct scan *S, size_t i)
{
    S->stack[S->top++] = (uint32_t)i;
}

/* memcheck's default heuristics (--leak-check-heuristics=all, less multipleinheritance, which
 * needs symbols): interior pointers that C++ and some C libraries make on purpose.
 *   stdstring:  w = start + 24 into {length, capacity, refcount, chars[capacity + 1]}
 *   length64:   w = start + 8, the first word holding the size of the rest
 *   newarray:   w = start + 8, the first word a count of elements that divides the rest
 * and one of vitals' own:
 *   dtv:        w = start + 16 into glibc's vector of a thread's TLS blocks, whose first word
 *               is its length in 16-byte entries, less the two it starts with; the thread (or
 *               glibc's cache of stacks) points to its second entry. memcheck calls these
 *               possibly lost, a false report its users suppress. */
static int interior_is_known(struct scan *S, const struct blk *c, uint64_t w)
{
    uint64_t hdr[2];
    if ((w != c->p + 8 && w != c->p + 16 && w != c->p + 24) || c->size < 16 ||
        (S->blocks_direct || S->direct ? (memcpy(hdr, (const void *)(uintptr_t)c->p, 16), 0)
                                       : read_mem(S, c->p, hdr, 16) != 16))
        return 0;
    if (w == c->p + 24)
        return 24 + hdr[1] + 1 == c->size && hdr[0] <= hdr[1];
    if (w == c->p + 16)
        return c->size % 16 == 0 && hdr[0] + 2 == c->size / 16;
    return (hdr[0] && c->size - 8 == hdr[0]) || (hdr[0] && (c->size - 8) % hdr[0] == 0);
}

/* Follows the word w found in memory that is definitely reached (prior_definite) or not. */
static void reach(struct scan *S, uint64_t w, int prior_definite)
{
    long i = find(S, w);
    if (i < 0)
        return;
    struct blk *c = &S->b[i];
    if (S->clique >= 0) {
        if (i != S->clique && c->state == UNREACHED) {
            c->state = INDIRECT;
            push(S, (size_t)i);
        }
        return;
    }
    if (c->state == REACHABLE) {
        if (c->heuristic && w == c->p)
            c->heuristic = 0;
        return;
    }
    int heuristic = w != c->p && interior_is_known(S, c, w);
    if ((w == c->p || heuristic) && prior_definite) {
        c->state = REACHABLE;
        c->heuristic = heuristic;
        push(S, (size_t)i); /* scan it (again) as definitely reached */
    } else if (c->state == UNREACHED) {
        c->state = POSSIBLE;
        push(S, (size_t)i);
    }
}

/* Looks at every aligned word of data, which was read from address addr. */
static void scan_words(struct scan *S, const uint8_t *data, size_t len, uint64_t addr,
                       int prior_definite)
{
    size_t skip = (size_t)((8 - (addr & 7)) & 7);
    if (skip >= len)
        return;
    data += skip;
    len -= skip;
    const uint64_t lo = S->lo, hi = S->hi;
    for (size_t k = 0; k + 8 <= len; k += 8) {
        uint64_t w;
        memcpy(&w, data + k, 8);
        if (w >= lo && w < hi)
            reach(S, w, prior_definite);
    }
}

/* Scans [start, start + len) piecewise, skipping pages that cannot be read. */
static void scan_pieces(struct scan *S, uint64_t start, uint64_t len, int prior_definite,
                        uint64_t *counter)
{
    while (len) {
        size_t want = len < READ_BUF ? (size_t)len : READ_BUF;
        size_t got = read_mem(S, start, S->buf, want);
        *counter += got;
        scan_words(S, S->buf, got, start, prior_definite);
        if (got < want) {
            /* Skip to the next page after the one that failed. */
            uint64_t next = ((start + got) | 4095) + 1;
            got = (size_t)(next - start);
            if (got > len)
                got = (size_t)len;
        }
        start += got;
        len -= got;
    }
}

/* Scans [start, start + len). In a large range, pages the program never touched (neither in
 * memory nor swapped out, by /proc/self/pagemap) hold only zeros and are skipped: a reserved
 * but unused mapping of many GiB costs next to nothing. */
static void scan_range(struct scan *S, uint64_t start, uint64_t len, int prior_definite,
                       uint64_t *counter)
{
    if (len < (1u << 20) || S->pagemap < 0) {
        scan_pieces(S, start, len, prior_definite, counter);
        return;
    }
    uint64_t end = start + len, run = start;
    uint64_t entries[512];
    for (uint64_t page = start & ~4095ull; page < end;) {
        size_t n = 512;
        ssize_t got = pread(S->pagemap, entries, n * 8, (off_t)(page / 4096 * 8));
        if (got < 8) {
            scan_pieces(S, run, end - run, prior_definite, counter);
            return;
        }
        n = (size_t)got / 8;
        for (size_t i = 0; i < n && page < end; i++, page += 4096) {
            int used = (entries[i] >> 62) & 3; /* present or swapped */
            uint64_t lo = page > start ? page : start;
            if (!used) {
                if (lo > run)
                    scan_pieces(S, run, lo - run, prior_definite, counter);
                run = page + 4096 < end ? page + 4096 : end;
            }
        }
    }
    if (end > run)
        scan_pieces(S, run, end - run, prior_definite, counter);
}

/* Scans the blocks on the mark stack until it is empty, reading many small blocks with one
 * system call. */
static void drain(struct scan *S)
{
    if (S->direct || S->blocks_direct) {
        while (S->top) {
            const struct blk *c = &S->b[S->stack[--S->top]];
            S->heap_bytes += c->size;
            scan_words(S, (const uint8_t *)(uintptr_t)c->p, (size_t)c->size, c->p,
                       c->state == REACHABLE);
        }
        return;
    }
    while (S->top) {
        size_t nb = 0, total = 0;
        uint32_t idx[MAX_IOV];
        while (S->top && nb < MAX_IOV) {
            uint32_t i = S->stack[S->top - 1];
            uint64_t sz = S->b[i].size;
            if (sz > READ_BUF) {
                if (nb)
                    break;
                S->top--;
                scan_range(S, S->b[i].p, sz, S->b[i].state == REACHABLE, &S->heap_bytes);
                continue;
            }
            if (total + sz > READ_BUF)
                break;
            S->top--;
            if (!sz)
                continue;
            S->liov[nb] = (struct iovec){S->buf + total, (size_t)sz};
            S->riov[nb] = (struct iovec){(void *)(uintptr_t)S->b[i].p, (size_t)sz};
            idx[nb++] = i;
            total += sz;
        }
        for (size_t k = 0; k < nb;) {
            ssize_t got;
            if (S->direct) {
                memcpy(S->liov[k].iov_base, S->riov[k].iov_base, S->riov[k].iov_len);
                got = (ssize_t)S->riov[k].iov_len;
            } else {
                got = syscall(SYS_process_vm_readv, S->pid, S->liov + k, nb - k, S->riov + k,
                              nb - k, 0UL);
            }
            if (got < 0) {
                k++; /* this block could not be read at all */
                continue;
            }
            size_t left = (size_t)got;
            for (; k < nb && left >= S->riov[k].iov_len; k++) {
                const struct blk *c = &S->b[idx[k]];
                left -= S->riov[k].iov_len;
                S->heap_bytes += c->size;
                scan_words(S, S->liov[k].iov_base, (size_t)c->size, c->p, c->state == REACHABLE);
            }
            if (k < nb && !S->direct) {
                const struct blk *c = &S->b[idx[k]];
                S->heap_bytes += left;
                scan_words(S, S->liov[k].iov_base, left, c->p, c->state == REACHABLE);
                k++; /* the rest of it could not be read */
            }
        }
    }
}

static void add_block(uint64_t ptr, uint64_t ord, uint64_t size, void *arg)
{
    struct scan *S = arg;
    S->b[S->n++] = (struct blk){ptr, size, ord, UNREACHED, 0};
}

static inline uint64_t blk_key(const struct blk *b, int by_ord)
{
    return by_ord ? b->ord : b->p;
}

/* Sorts b by address or by ordinal: a byte-wise radix sort, which skips the bytes every key
 * shares (the high bytes of addresses). Returns 0, or -1 without memory for it. */
static int sort_blocks(struct blk *b, size_t n, int by_ord)
{
    if (n < 2)
        return 0;
    struct blk *tmp = scratch(n * sizeof(*b)), *src = b, *dst = tmp;
    if (!tmp)
        return -1;
    uint64_t all_or = 0, all_and = ~0ull;
    for (size_t i = 0; i < n; i++) {
        all_or |= blk_key(&b[i], by_ord);
        all_and &= blk_key(&b[i], by_ord);
    }
    for (int shift = 0; shift < 64; shift += 8) {
        if ((((all_or ^ all_and) >> shift) & 0xff) == 0)
            continue; /* every key has the same byte here */
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((blk_key(&src[i], by_ord) >> shift) & 0xff) + 1]++;
        for (int d = 0; d < 256; d++)
            count[d + 1] += count[d];
        for (size_t i = 0; i < n; i++)
            dst[count[(blk_key(&src[i], by_ord) >> shift) & 0xff]++] = src[i];
        struct blk *t = src;
        src = dst;
        dst = t;
    }
    if (src != b)
        memcpy(b, src, n * sizeof(*b));
    unscratch(tmp, n * sizeof(*b));
    return 0;
}

static int by_ordinal(const void *a, const void *b)
{
    const struct blk *x = a, *y = b;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int by_start(const void *a, const void *b)
{
    const struct vt_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void exclude(struct scan *S, uint64_t start, uint64_t end)
{
    if (end <= start || S->n_excl == S->cap_excl)
        return;
    S->excl[S->n_excl++] = (struct vt_range){start, end - start};
}

static uint64_t hex(const char **s)
{
    uint64_t v = 0;
    for (;; (*s)++) {
        char c = **s;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return v;
        v = v * 16 + (uint64_t)d;
    }
}

/* Reads a whole /proc file into memory from scratch(); *len set. NULL on failure. */
static char *slurp(const char *path, size_t *len, size_t *cap)
{
    size_t n = 1 << 16;
    for (;;) {
        char *b = scratch(n);
        if (!b)
            return NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            vt__unmap(b, n);
            return NULL;
        }
        size_t got = 0;
        for (;;) {
            ssize_t r = read(fd, b + got, n - 1 - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
            if (got == n - 1)
                break;
        }
        close(fd);
        if (got < n - 1) {
            b[got] = 0;
            *len = got;
            *cap = n;
            return b;
        }
        vt__unmap(b, n);
        n *= 2;
    }
}

/* Parses /proc/self/maps into S->maps, marking what is not a root. */
static int read_maps(struct scan *S)
{
    size_t len, cap;
    char *text = slurp("/proc/self/maps", &len, &cap);
    if (!text)
        return -1;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    /* Kept until the scan ends: nothing is unmapped while the list of mappings is in use. */
    S->maps_text = text;
    S->maps_text_cap = cap;
    S->maps_bytes = (lines + 1) * sizeof(*S->maps);
    S->maps = scratch(S->maps_bytes);
    if (!S->maps)
        return -1;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol)
            eol = p + strlen(p);
        struct map m = {0};
        m.start = hex(&p);
        if (*p == '-')
            p++;
        m.end = hex(&p);
        while (*p == ' ')
            p++;
        m.rw = p[0] == 'r' && p[1] == 'w';
        m.shared = p[3] == 's';
        /* offset, device, inode, then the path if any */
        for (int field = 0; field < 4 && p < eol; field++) {
            while (p < eol && *p != ' ')
                p++;
            while (p < eol && *p == ' ')
                p++;
        }
        size_t plen = (size_t)(eol - p);
        if (plen >= 6 && !memcmp(p, "[heap]", 6))
            m.skip = 1;
        /* Devices are not memory (memcheck leaves them out too). */
        if (plen > 5 && !memcmp(p, "/dev/", 5) && !(plen >= 9 && !memcmp(p, "/dev/zero", 9)) &&
            !(plen >= 9 && !memcmp(p, "/dev/shm/", 9)))
            m.skip = 1;
        if (S->direct && m.shared && plen && *p == '/')
            m.skip = 1; /* a truncated file would fault */
        if (m.rw)
            S->maps[S->n_maps++] = m;
        p = *eol ? eol + 1 : eol;
        /* A glibc thread arena: 64 MiB-aligned, its unused rest mapped without access, and a
         * heap_info header whose size fits. */
        if (m.rw && !m.skip && (m.start & (ARENA_ALIGN - 1)) == 0 && *p) {
            const char *q = p;
            uint64_t next_start = hex(&q);
            if (*q == '-')
                q++;
            uint64_t next_end = hex(&q);
            uint64_t hdr[4];
            if (next_start == m.end && q[1] == '-' && q[2] == '-' && q[3] == '-' &&
                next_end - m.start <= ARENA_ALIGN &&
                read_mem(S, m.start, hdr, sizeof(hdr)) == sizeof(hdr) && hdr[0] &&
                hdr[2] <= m.end - m.start && hdr[2] > 0)
                S->maps[S->n_maps - 1].skip = 1;
        }
    }
    return 0;
}

/* The stack pointer of thread tid when it is blocked (the kernel shows it), or 0. */
static uint64_t thread_sp(pid_t tid)
{
    char path[64] = "/proc/self/task/", num[24], text[256];
    vt__utoa((unsigned long)tid, num);
    strcat(path, num);
    strcat(path, "/syscall");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = 0;
    if (text[0] == 'r') /* "running": the stack pointer is not known */
        return 0;
    /* "nr arg1 ... arg6 sp pc" or "-1 sp pc": the stack pointer is the last but one field */
    const char *f[10];
    int nf = 0;
    for (char *p = text; *p && nf < 10;) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p)
            break;
        f[nf++] = p;
        while (*p && *p != ' ' && *p != '\n')
            p++;
    }
    if (nf < 3 || f[nf - 2][0] != '0' || f[nf - 2][1] != 'x')
        return 0;
    const char *s = f[nf - 2] + 2;
    return hex(&s);
}

/* Leaves out the part of the mapping holding sp that lies below it (dead frames). */
static void exclude_below(struct scan *S, uint64_t sp)
{
    for (size_t i = 0; i < S->n_maps; i++)
        if (sp >= S->maps[i].start && sp < S->maps[i].end)
            exclude(S, S->maps[i].start, sp);
}

static void exclude_stacks(struct scan *S, uint64_t own_sp)
{
    pid_t self = (pid_t)syscall(SYS_gettid);
    S->threads = 1;
    S->threads_sp = 1;
    exclude_below(S, own_sp);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        pid_t tid = (pid_t)strtol(e->d_name, NULL, 10);
        if (tid == self)
            continue;
        S->threads++;
        uint64_t sp = thread_sp(tid);
        if (sp) {
            S->threads_sp++;
            exclude_below(S, sp > RED_ZONE ? sp - RED_ZONE : sp);
        }
    }
    closedir(d);
}

/* Leaves out the mappings of blocks that glibc served with mmap: the chunk header says so. */
static void exclude_mapped_blocks(struct scan *S)
{
    for (size_t i = 0; i < S->n;) {
        size_t nb = 0;
        uint64_t *hdr = (uint64_t *)S->buf;
        size_t first = i;
        for (; i < S->n && nb < MAX_IOV; i++, nb++) {
            S->liov[nb] = (struct iovec){hdr + 2 * nb, 16};
            S->riov[nb] = (struct iovec){(void *)(uintptr_t)(S->b[i].p - 16), 16};
        }
        size_t done = 0;
        while (done < nb) {
            ssize_t got;
            if (S->direct || S->blocks_direct) {
                memcpy(S->liov[done].iov_base, S->riov[done].iov_base, 16);
                got = 16;
            } else {
                got = syscall(SYS_process_vm_readv, S->pid, S->liov + done, nb - done,
                              S->riov + done, nb - done, 0UL);
            }
            size_t whole = got > 0 ? (size_t)got / 16 : 0;
            for (size_t k = done; k < done + whole; k++) {
                uint64_t prev_size = hdr[2 * k], size = hdr[2 * k + 1];
                if (size & 2) { /* IS_MMAPPED */
                    uint64_t chunk = S->b[first + k].p - 16;
                    exclude(S, chunk - prev_size, chunk + (size & ~7ull));
                }
            }
            done += whole ? whole : 1;
        }
    }
}

static void add_excluded(struct vt_range *out, size_t *n, struct vt_range r)
{
    if (*n && r.start <= out[*n - 1].start + out[*n - 1].len) {
        uint64_t end = r.start + r.len;
        if (end > out[*n - 1].start + out[*n - 1].len)
            out[*n - 1].len = end - out[*n - 1].start;
    } else {
        out[(*n)++] = r;
    }
}

/* Sorts the excluded ranges, adds the blocks (a block is never a root, even where the
 * allocator's memory was not recognised) and merges ranges that overlap or touch. The blocks
 * are sorted by address already: the two lists are merged in one pass. */
static int merge_excluded(struct scan *S)
{
    qsort(S->excl, S->n_excl, sizeof(*S->excl), by_start);
    size_t n = 0;
    struct vt_range *all = S->merged;
    for (size_t i = 0, k = 0; i < S->n_excl || k < S->n;) {
        if (k == S->n || (i < S->n_excl && S->excl[i].start <= S->b[k].p)) {
            add_excluded(all, &n, S->excl[i++]);
        } else {
            add_excluded(all, &n, (struct vt_range){S->b[k].p, S->b[k].size});
            k++;
        }
    }
    S->excl = all;
    S->n_excl = n;
    return 0;
}

/* Scans every root: the mappings less the excluded ranges. */
static void scan_roots(struct scan *S)
{
    for (size_t i = 0; i < S->n_maps; i++) {
        const struct map *m = &S->maps[i];
        if (m->skip)
            continue;
        uint64_t at = m->start;
        /* The first excluded range that ends after the mapping starts. */
        size_t k = 0, hi = S->n_excl;
        while (k < hi) {
            size_t mid = k + (hi - k) / 2;
            if (S->excl[mid].start + S->excl[mid].len <= m->start)
                k = mid + 1;
            else
                hi = mid;
        }
        for (; k < S->n_excl && at < m->end; k++) {
            uint64_t xs = S->excl[k].start, xe = xs + S->excl[k].len;
            if (xs >= m->end)
                break;
            if (xs > at)
                scan_range(S, at, xs - at, 1, &S->root_bytes);
            if (xe > at)
                at = xe;
        }
        if (at < m->end)
            scan_range(S, at, m->end - at, 1, &S->root_bytes);
        drain(S);
    }
}

static void run(uint64_t own_sp)
{
    uint64_t t0 = mono_ns();
    struct scan S = {.clique = -1, .pid = getpid(), .pagemap = -1};
    size_t n = vt__merge_live(NULL, NULL);
    uint64_t fields[18] = {VT_SCAN_NOMEM};
    S.b = scratch(n * sizeof(*S.b));
    S.stack = scratch((2 * n + 16) * sizeof(*S.stack));
    S.buf = scratch(READ_BUF);
    S.liov = scratch(MAX_IOV * sizeof(*S.liov));
    S.riov = scratch(MAX_IOV * sizeof(*S.riov));
    S.cap_excl = 2 * n + 4096;
    S.excl = scratch(S.cap_excl * sizeof(*S.excl));
    S.merged = scratch((S.cap_excl + n) * sizeof(*S.merged));
    struct vt_range *first_excl = S.excl;
    /* Everything the scan needs is mapped now: memory mapped after /proc/self/maps is read
     * could land where something was unmapped, in a range taken for a root. */
    if (!S.b || !S.stack || !S.buf || !S.liov || !S.riov || !S.excl || !S.merged)
        goto out;
    /* The roots and block headers are told apart by glibc's layout of its memory. */
    Dl_info di;
    void *real_malloc = dlsym(RTLD_NEXT, "malloc");
    if (!real_malloc || !dladdr(real_malloc, &di) || !di.dli_fname ||
        !strstr(di.dli_fname, "libc.so")) {
        fields[0] = VT_SCAN_FOREIGN;
        goto out;
    }
    /* Without process_vm_readv (a seccomp filter, say) memory is read directly. */
    uint64_t probe = 1, copy = 0;
    S.direct = read_mem(&S, (uint64_t)(uintptr_t)&probe, &copy, sizeof(copy)) != sizeof(copy);

    vt__merge_live(add_block, &S);
    if (sort_blocks(S.b, S.n, 0) != 0)
        goto out;
    if (S.n) {
        S.lo = S.b[0].p;
        for (size_t i = 0; i < S.n; i++)
            if (S.b[i].p + S.b[i].size + (S.b[i].size == 0) > S.hi)
                S.hi = S.b[i].p + S.b[i].size + (S.b[i].size == 0);
    }
    S.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (read_maps(&S) != 0)
        goto out;
    exclude_stacks(&S, own_sp);
    /* With no other thread to free a block meanwhile, blocks can be read in place, which is
     * much faster than a system call for each small batch. */
    S.blocks_direct = S.threads == 1;
    exclude_mapped_blocks(&S);
    uint64_t lo, hi;
    vt__agent_range(&lo, &hi);
    exclude(&S, lo, hi);
    /* Last, so that the scan's own memory is in the list (the merged list made next is not,
     * but it holds no pointer to a block). */
    size_t total = vt__map_ranges(S.excl + S.n_excl, S.cap_excl - S.n_excl);
    S.n_excl += total < S.cap_excl - S.n_excl ? total : S.cap_excl - S.n_excl;
    if (merge_excluded(&S) != 0)
        goto out;

    if (S.n) {
        scan_roots(&S);
        for (size_t i = 0; i < S.n; i++) {
            if (S.b[i].state != UNREACHED)
                continue;
            S.clique = (long)i;
            push(&S, i);
            drain(&S);
        }
    }
    uint64_t count[4] = {0}, bytes[4] = {0}, heur_count = 0, heur_bytes = 0;
    static const int cls[4] = {[UNREACHED] = VT_LEAK_DEFINITE,
                               [INDIRECT] = VT_LEAK_INDIRECT,
                               [POSSIBLE] = VT_LEAK_POSSIBLE,
                               [REACHABLE] = VT_LEAK_REACHABLE};
    for (size_t i = 0; i < S.n; i++) {
        int c = cls[S.b[i].state];
        count[c]++;
        bytes[c] += S.b[i].size;
        if (S.b[i].state == REACHABLE && S.b[i].heuristic) {
            heur_count++;
            heur_bytes += S.b[i].size;
        }
    }
    uint64_t f[] = {VT_SCAN_DONE,
                    S.n,
                    count[VT_LEAK_DEFINITE],
                    bytes[VT_LEAK_DEFINITE],
                    count[VT_LEAK_INDIRECT],
                    bytes[VT_LEAK_INDIRECT],
                    count[VT_LEAK_POSSIBLE],
                    bytes[VT_LEAK_POSSIBLE],
                    count[VT_LEAK_REACHABLE],
                    bytes[VT_LEAK_REACHABLE],
                    S.root_bytes,
                    S.heap_bytes,
                    mono_ns() - t0,
                    S.threads,
                    S.threads_sp,
                    S.direct ? VT_SCAN_DIRECT_READS : 0,
                    heur_count,
                    heur_bytes};
    memcpy(fields, f, sizeof(f));
    vt__emit_scan(fields, 18);
    /* The blocks that are not reachable, in ordinal order. */
    size_t lost = 0;
    for (size_t i = 0; i < S.n; i++)
        if (S.b[i].state != REACHABLE)
            S.b[lost++] = S.b[i];
    if (sort_blocks(S.b, lost, 1) != 0)
        qsort(S.b, lost, sizeof(*S.b), by_ordinal);
    uint64_t prev = UINT64_MAX; /* the first delta is ordinal + 1 */
    for (size_t i = 0; i < lost; i++) {
        vt__emit_leak(S.b[i].ord - prev, cls[S.b[i].state]);
        prev = S.b[i].ord;
    }
    goto release;
out:
    fields[12] = mono_ns() - t0;
    vt__emit_scan(fields, 18);
release:
    if (S.pagemap >= 0)
        close(S.pagemap);
    unscratch(S.b, n * sizeof(*S.b));
    unscratch(S.stack, (2 * n + 16) * sizeof(*S.stack));
    unscratch(S.buf, READ_BUF);
    unscratch(S.liov, MAX_IOV * sizeof(*S.liov));
    unscratch(S.riov, MAX_IOV * sizeof(*S.riov));
    unscratch(first_excl, S.cap_excl * sizeof(*S.excl));
    unscratch(S.merged, (S.cap_excl + n) * sizeof(*S.merged));
    if (S.maps)
        unscratch(S.maps, S.maps_bytes);
    if (S.maps_text)
        vt__unmap(S.maps_text, S.maps_text_cap);
}

/* Zeroes the pages of [lo, hi) that are in memory (touching the others would commit them),
 * stopping well below its own frame. lo is page-aligned. */
static __attribute__((noinline)) void zero_resident(uint64_t lo, uint64_t hi)
{
    /* Nothing lives below the stack pointer: signals are blocked and no call is under way. */
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    uint64_t limit = (sp - 8) & ~7ull;
    if (hi > limit)
        hi = limit;
    unsigned char vec[256];
    while (lo < hi) {
        uint64_t span = hi - lo > 256 * 4096ull ? 256 * 4096ull : hi - lo;
        size_t pages = (size_t)((span + 4095) / 4096);
        if (mincore((void *)(uintptr_t)lo, pages * 4096, vec) != 0)
            memset(vec, 1, pages);
        for (size_t i = 0; i < pages; i++) {
            if (!(vec[i] & 1))
                continue;
            volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(lo + i * 4096);
            volatile uint64_t *end = (volatile uint64_t *)(uintptr_t)(lo + (i + 1) * 4096);
            if ((uint64_t)(uintptr_t)end > hi)
                end = (volatile uint64_t *)(uintptr_t)hi;
            while (p < end)
                *p++ = 0;
        }
        lo += span;
    }
}

/* The low end of the calling thread's stack mapping, or 0 when the stack pointer is not in the
 * thread's own stack (a coroutine's stack, say): then nothing is zeroed. */
static __attribute__((noinline)) uint64_t stack_low(uint64_t sp)
{
    uint64_t lo = 0;
    const struct vt_thread *t = vt__self;
    if (t && t->stack_lo && sp > t->stack_lo && sp <= t->stack_hi)
        return t->stack_lo & ~4095ull; /* known since the thread's first event (stackuse.c) */
    if ((pid_t)syscall(SYS_gettid) == getpid()) {
        size_t len, cap;
        char *text = slurp("/proc/self/maps", &len, &cap);
        for (const char *p = text; p && *p;) {
            uint64_t start = hex(&p);
            p++;
            uint64_t end = hex(&p);
            const char *eol = strchr(p, '\n');
            if (sp >= start && sp < end) {
                const char *name = strstr(p, "[stack]");
                if (name && (!eol || name < eol))
                    lo = start;
                break;
            }
            p = eol ? eol + 1 : p + strlen(p);
        }
        if (text)
            vt__unmap(text, cap);
    } else {
        pthread_attr_t attr;
        void *addr;
        size_t size;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0 && sp > (uint64_t)(uintptr_t)addr &&
                sp <= (uint64_t)(uintptr_t)addr + size)
                lo = (uint64_t)(uintptr_t)addr;
            pthread_attr_destroy(&attr);
        }
    }
    return lo & ~4095ull;
}

void vt__scrub_stack(void)
{
    if (!vt__config.leak_check || atomic_load(&vt__state) != VT_STATE_TRACING)
        return;
    int guard = vt__guard;
    vt__guard = 1;
    uint64_t lo = stack_low((uint64_t)(uintptr_t)__builtin_frame_address(0));
    /* A signal handler may run below this frame: none may come while it is zeroed. The C
     * library and the kernel write only the first bytes of a sigset_t: the rest would keep
     * what the program left there. */
    sigset_t all, old;
    memset(&all, 0, sizeof(all));
    memset(&old, 0, sizeof(old));
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (lo)
        zero_resident(lo, UINT64_MAX);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    vt__guard = guard;
}

void vt__scan_at_exit(void)
{
    /* Everything below this frame is the scan's own. */
    run((uint64_t)(uintptr_t)__builtin_frame_address(0));
}
