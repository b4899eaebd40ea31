/* Allocation counter for pbxd's RTP relay tests and benchmark (LD_PRELOAD).
 *
 * Why: Swift has no in-process malloc hook, and glibc's mallinfo2() reports bytes in use, not
 * calls, so a per-packet allocation that is freed again would be invisible. Preloading this
 * library makes every malloc/calloc/realloc/memalign of the process go through a counter and
 * then to glibc's own implementation (__libc_*). Counters are process-wide (atomic) and
 * per-thread (initial-exec TLS, safe for a preloaded library: no allocation on first use).
 *
 * Build: cc -O2 -shared -fPIC -o libmalloc-count.so bench/malloc-count.c
 * Use:   LD_PRELOAD=$PWD/libmalloc-count.so <program>
 * Read:  dlsym(RTLD_DEFAULT, "pbxd_malloc_count") / "pbxd_malloc_count_thread".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t total;
static __thread uint64_t per_thread __attribute__((tls_model("initial-exec")));

static inline void count(void) {
    __atomic_fetch_add(&total, 1, __ATOMIC_RELAXED);
    per_thread++;
}

uint64_t pbxd_malloc_count(void) { return __atomic_load_n(&total, __ATOMIC_RELAXED); }
uint64_t pbxd_malloc_count_thread(void) { return per_thread; }

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    count();
    void *p = __libc_memalign(al, n);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}
