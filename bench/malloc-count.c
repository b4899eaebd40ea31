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
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t total;
static __thread uint64_t per_thread __attribute__((tls_model("initial-exec")));

static __thread int in_trace __attribute__((tls_model("initial-exec")));
static uint64_t trace_every; /* PBXD_MALLOC_TRACE=N: backtrace of every Nth call to stderr */
static int trace_ready;

/* Finding where allocations come from: sampled backtraces (backtrace_symbols_fd does not
 * allocate; the re-entrancy flag covers libgcc's first-use allocation). */
static void maybe_trace(uint64_t n) {
    if (!trace_ready) {
        trace_ready = 1;
        const char *e = getenv("PBXD_MALLOC_TRACE");
        trace_every = e ? strtoull(e, NULL, 10) : 0;
    }
    if (trace_every == 0 || n % trace_every != 0 || in_trace) return;
    in_trace = 1;
    void *frames[24];
    int k = backtrace(frames, 24);
    write(2, "--- malloc\n", 11);
    backtrace_symbols_fd(frames, k, 2);
    in_trace = 0;
}

static inline void count(void) {
    uint64_t n = __atomic_fetch_add(&total, 1, __ATOMIC_RELAXED);
    per_thread++;
    if (__builtin_expect(trace_every != 0 || !trace_ready, 0)) maybe_trace(n);
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
