// The few things Swift cannot express cheaply: a thread-local state block reached
// with one instruction, the time-stamp counter, and relaxed/acquire/release atomics
// on plain memory. Everything here is `static inline` so the Swift optimizer inlines it.
#ifndef CTRACING_H
#define CTRACING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/// Per-thread memory counters and the thread's tracing context.
typedef struct {
    int64_t allocated;   ///< bytes allocated by this thread, ever
    int64_t freed;       ///< bytes freed by this thread, ever
    int64_t allocations; ///< allocations made by this thread, ever
    int64_t windowPeak;  ///< highest process-wide live bytes seen since the innermost span began
    int32_t gradDisabled;///< > 0 inside a no-grad scope
    int32_t inBackward;  ///< > 0 while the autograd engine runs backward rules
    void *context;       ///< the thread's tracing context (owned by Swift), or NULL
    uint32_t group;      ///< the thread group this thread was enrolled in (see ct_thread_records), or 0
    int32_t intendedReads; ///< > 0 inside `intendedParameterReads { }`: parameter reads are not judged
} ct_thread_state;

extern __thread ct_thread_state ct_tls __attribute__((tls_model("initial-exec")));

/// Process-wide switches read on every module call (see TraceFlags).
extern int32_t ct_flags;
/// Process-wide live and peak tensor bytes, and the allocation count.
extern int64_t ct_live_bytes;
extern int64_t ct_peak_bytes;
/// The trace session (bumped when one starts) and the current profiler step.
extern uint32_t ct_epoch;
extern uint32_t ct_step;
/// Source of span ids, handed out to threads in blocks.
extern uint64_t ct_next_span_block;
/// The active trace session (an unretained Swift object kept alive by the tracer), or NULL.
extern void *ct_session;
/// The thread group the active session records, or 0 when it records every thread.
extern uint32_t ct_thread_group;

static inline ct_thread_state *ct_state(void) { return &ct_tls; }

static inline int32_t ct_get_flags(void) { return __atomic_load_n(&ct_flags, __ATOMIC_RELAXED); }
/// Replaces the bits of `mask` with those of `flags`, leaving the others alone.
static inline void ct_update_flags(int32_t mask, int32_t flags) {
    int32_t old = __atomic_load_n(&ct_flags, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&ct_flags, &old, (old & ~mask) | (flags & mask), 1,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
}
/// The active session, published with release semantics and read with acquire.
static inline void *ct_get_session(void) { return __atomic_load_n(&ct_session, __ATOMIC_ACQUIRE); }
static inline void ct_set_session(void *s) { __atomic_store_n(&ct_session, s, __ATOMIC_RELEASE); }
static inline void ct_set_thread_group(uint32_t group) { __atomic_store_n(&ct_thread_group, group, __ATOMIC_SEQ_CST); }

/// True when the calling thread's calls belong to the active session: every thread's do when the
/// session records the whole process, otherwise only those of threads enrolled in its group.
static inline int ct_thread_records(void) {
    uint32_t group = __atomic_load_n(&ct_thread_group, __ATOMIC_RELAXED);
    return group == 0 || ct_tls.group == group;
}

/// Numbers autograd nodes in creation order.
extern uint64_t ct_next_sequence;
static inline uint64_t ct_take_sequence(void) { return __atomic_fetch_add(&ct_next_sequence, 1, __ATOMIC_RELAXED); }
static inline uint32_t ct_get_epoch(void) { return __atomic_load_n(&ct_epoch, __ATOMIC_RELAXED); }
static inline void ct_set_epoch(uint32_t e) { __atomic_store_n(&ct_epoch, e, __ATOMIC_SEQ_CST); }
static inline uint32_t ct_get_step(void) { return __atomic_load_n(&ct_step, __ATOMIC_RELAXED); }
static inline void ct_set_step(uint32_t s) { __atomic_store_n(&ct_step, s, __ATOMIC_RELAXED); }
static inline uint64_t ct_peek_span_block(void) { return __atomic_load_n(&ct_next_span_block, __ATOMIC_RELAXED); }
static inline uint64_t ct_take_span_block(uint64_t size) { return __atomic_fetch_add(&ct_next_span_block, size, __ATOMIC_RELAXED); }

/// Monotonic nanoseconds (CLOCK_MONOTONIC).
static inline uint64_t ct_monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/// Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME).
static inline uint64_t ct_realtime_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/// The cheapest monotonic clock: the invariant TSC on x86-64, else CLOCK_MONOTONIC in ns.
static inline uint64_t ct_ticks(void) {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return ct_monotonic_ns();
#endif
}

/// Records an allocation of `bytes` in the thread and process counters.
static inline void ct_note_alloc(int64_t bytes) {
    ct_thread_state *s = &ct_tls;
    s->allocated += bytes;
    s->allocations += 1;
    int64_t live = __atomic_add_fetch(&ct_live_bytes, bytes, __ATOMIC_RELAXED);
    if (live > s->windowPeak) s->windowPeak = live;
    int64_t peak = __atomic_load_n(&ct_peak_bytes, __ATOMIC_RELAXED);
    while (live > peak &&
           !__atomic_compare_exchange_n(&ct_peak_bytes, &peak, live, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

/// Records that `bytes` were freed.
static inline void ct_note_free(int64_t bytes) {
    ct_tls.freed += bytes;
    __atomic_sub_fetch(&ct_live_bytes, bytes, __ATOMIC_RELAXED);
}

static inline int64_t ct_get_live_bytes(void) { return __atomic_load_n(&ct_live_bytes, __ATOMIC_RELAXED); }
static inline int64_t ct_get_peak_bytes(void) { return __atomic_load_n(&ct_peak_bytes, __ATOMIC_RELAXED); }
static inline void ct_reset_peak_bytes(void) {
    __atomic_store_n(&ct_peak_bytes, __atomic_load_n(&ct_live_bytes, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

/// Single-producer/single-consumer ring indices.
static inline uint64_t ct_load_acquire(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void ct_store_release(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint64_t ct_fetch_add(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }

/// Brings the cache line at `p` in for writing before it is written.
static inline void ct_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Calls `destructor(context)` when the calling thread exits (once registered).
void ct_register_thread_exit(void (*destructor)(void *), void *context);

/// The kernel's id of the calling thread.
int32_t ct_thread_id(void);

/// Memory for a thread's span ring of `bytes` (NULL if none), faulted in: 2 MiB-aligned and advised
/// as transparent huge pages, so that writing a ring larger than the caches does not also miss the
/// TLB on every 4 KiB page (on a VM a miss walks two page tables). Freed with `ct_ring_free` and
/// the same `bytes`.
void *ct_ring_allocate(size_t bytes);
void ct_ring_free(void *ring, size_t bytes);

#endif
