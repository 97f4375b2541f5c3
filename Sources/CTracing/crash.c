#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "ctcrash.h"
#include "ctracing.h"

// Everything the handler touches is static and prepared in advance; see ctcrash.h.

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT};
enum { SIGNAL_COUNT = sizeof crash_signals / sizeof crash_signals[0] };
static struct sigaction previous[SIGNAL_COUNT];
static int installed = 0;

static char crash_path[4096];
static int armed = 0;
static int crashing = 0;
// Set once the record is written and closed: a thread that crashes while another one writes waits for it.
static int record_done = 0;
static int64_t armed_run = 0;
static uint32_t armed_epoch = 0;
static uint64_t armed_first_span = 0;
static ct_crash_layout layout;
static ct_crash_clock clock_info;

// Registered threads: their ThreadTrace, tracer index and kernel id.
typedef struct {
    void *trace;
    int32_t tid;
    uint16_t index;
} thread_slot;
static thread_slot threads[CT_CRASH_MAX_THREADS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

// Names: an open-addressing table of (kind << 32 | id) -> text in a static arena. Writers hold
// `registry_lock`; the handler reads without it (an entry's key is published last, with release).
enum { NAME_SLOTS = 1 << 14, NAME_PROBES = 64, ARENA_BYTES = 1 << 20 };
enum { NAME_MODULE = 1, NAME_STRING = 2, NAME_SHAPES = 3 };
typedef struct {
    uint64_t key;
    uint32_t offset;
    uint16_t length1; // the text (a module's path)
    uint16_t length2; // a module's type
} name_slot;
static name_slot names[NAME_SLOTS];
// Padded: a torn read of a slot being replaced stays inside the array.
static char arena[ARENA_BYTES + 2 * CT_CRASH_MAX_TEXT];
static uint32_t arena_used = 0;

static __thread void *own_altstack = 0;
enum { ALTSTACK_BYTES = 64 * 1024 };

// MARK: The handler's output

static char out[1 << 16];
static size_t out_used = 0;
static int out_fd = -1;

static void flush_out(void) {
    size_t done = 0;
    while (done < out_used) {
        ssize_t n = write(out_fd, out + done, out_used - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    out_used = 0;
}

static void put(const void *bytes, size_t n) {
    const char *p = bytes;
    while (n > 0) {
        if (out_used == sizeof out) flush_out();
        size_t room = sizeof out - out_used;
        size_t k = n < room ? n : room;
        memcpy(out + out_used, p, k);
        out_used += k;
        p += k;
        n -= k;
    }
}

static void put_u16(uint16_t v) { put(&v, 2); }
static void put_u32(uint32_t v) { put(&v, 4); }
static void put_u64(uint64_t v) { put(&v, 8); }

static uint64_t hash_key(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return key;
}

/// The slot holding `key`, or NULL. Safe in the handler.
static const name_slot *find_name(uint64_t key) {
    uint64_t i = hash_key(key);
    for (int probe = 0; probe < NAME_PROBES; probe++, i++) {
        const name_slot *slot = &names[i & (NAME_SLOTS - 1)];
        uint64_t k = __atomic_load_n(&slot->key, __ATOMIC_ACQUIRE);
        if (k == key) return slot;
        if (k == 0) return 0;
    }
    return 0;
}

static uint64_t read_u64(const char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t read_u32(const char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint16_t read_u16(const char *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/// One span record: kind, flags, depth, step, subject, shapes, id, start, end (0 while open),
/// then the lengths and bytes of its name, module type and input shapes.
static void put_span(uint16_t type, const char *frame, int open) {
    uint8_t kind = (uint8_t)frame[open ? layout.frameKind : layout.recordKind];
    uint8_t flags = (uint8_t)frame[open ? layout.frameFlags : layout.recordFlags];
    uint16_t depth = read_u16(frame + (open ? layout.frameDepth : layout.recordDepth));
    uint32_t step = read_u32(frame + (open ? layout.frameStep : layout.recordStep));
    uint32_t subject = read_u32(frame + (open ? layout.frameSubject : layout.recordSubject));
    uint32_t shapes = read_u32(frame + (open ? layout.frameShapes : layout.recordShapes));
    uint64_t id = read_u64(frame + (open ? layout.frameID : layout.recordID));
    uint64_t start = read_u64(frame + (open ? layout.frameStart : layout.recordStart));
    uint64_t end = open ? 0 : read_u64(frame + layout.recordEnd);

    const char *name = 0, *module_type = 0, *shape_text = 0;
    uint16_t name_length = 0, type_length = 0, shape_length = 0;
    const name_slot *slot = 0;
    if (kind <= 1) {
        slot = find_name((uint64_t)NAME_MODULE << 32 | subject);
        if (slot) {
            name = arena + slot->offset;
            name_length = slot->length1;
            module_type = name + name_length;
            type_length = slot->length2;
        }
    } else if (kind != 4) {
        slot = find_name((uint64_t)NAME_STRING << 32 | subject);
        if (slot) {
            name = arena + slot->offset;
            name_length = slot->length1;
        }
    }
    if (shapes != 0 && (slot = find_name((uint64_t)NAME_SHAPES << 32 | shapes))) {
        shape_text = arena + slot->offset;
        shape_length = slot->length1;
    }
    put_u16(type);
    put_u16(0);
    put_u32(48u + name_length + type_length + shape_length);
    put(&kind, 1);
    put(&flags, 1);
    put_u16(depth);
    put_u32(step);
    put_u32(subject);
    put_u32(shapes);
    put_u64(id);
    put_u64(start);
    put_u64(end);
    put_u16(name_length);
    put_u16(type_length);
    put_u16(shape_length);
    put_u16(0);
    if (name_length) put(name, name_length);
    if (type_length) put(module_type, type_length);
    if (shape_length) put(shape_text, shape_length);
}

/// One thread: its header, its open spans of the armed session (outermost first) and its last
/// finished spans of the run (oldest first).
static void put_thread(const thread_slot *t, int32_t crashed_tid) {
    const char *trace = t->trace;
    const char *frames = (const char *)read_u64(trace + layout.traceFrames);
    int64_t depth = (int64_t)read_u64(trace + layout.traceDepth);
    const char *ring = (const char *)read_u64(trace + layout.traceRing);
    const uint64_t *shared = (const uint64_t *)read_u64(trace + layout.traceShared);
    if (!frames || !ring || !shared) return;
    if (depth < 0) depth = 0;
    if (depth > (int64_t)layout.frameCapacity) depth = layout.frameCapacity;

    uint32_t open = 0;
    for (int64_t i = 0; i < depth; i++) {
        const char *f = frames + i * layout.frameStride;
        if (read_u32(f + layout.frameEpoch) == armed_epoch && read_u64(f + layout.frameID) >= armed_first_span) open++;
    }
    uint64_t head = __atomic_load_n(shared, __ATOMIC_ACQUIRE);
    uint64_t first = head > CT_CRASH_LAST_SPANS ? head - CT_CRASH_LAST_SPANS : 0;
    uint32_t finished = 0;
    for (uint64_t i = first; i < head; i++) {
        const char *r = ring + (i & (layout.ringCapacity - 1)) * layout.recordStride;
        if (read_u64(r + layout.recordID) >= armed_first_span) finished++;
    }
    if (open == 0 && finished == 0 && t->tid != crashed_tid) return;

    put_u16(1);
    put_u16(0);
    put_u32(16);
    put_u16(t->index);
    uint8_t crashed = t->tid == crashed_tid, pad = 0;
    put(&crashed, 1);
    put(&pad, 1);
    put_u32((uint32_t)t->tid);
    put_u32(open);
    put_u32(finished);
    uint32_t written = 0;
    for (int64_t i = 0; i < depth && written < open; i++) {
        const char *f = frames + i * layout.frameStride;
        if (read_u32(f + layout.frameEpoch) != armed_epoch || read_u64(f + layout.frameID) < armed_first_span) continue;
        put_span(2, f, 1);
        written++;
    }
    written = 0;
    for (uint64_t i = first; i < head && written < finished; i++) {
        const char *r = ring + (i & (layout.ringCapacity - 1)) * layout.recordStride;
        if (read_u64(r + layout.recordID) < armed_first_span) continue;
        put_span(3, r, 0);
        written++;
    }
}

static void write_record(int sig, siginfo_t *info) {
    out_fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) return;
    out_used = 0;
    int32_t tid = ct_thread_id();
    put("TWCRASH", 8);
    put_u32(CT_CRASH_VERSION);
    put_u32(96);
    put_u32((uint32_t)sig);
    put_u32((uint32_t)(info ? info->si_code : 0));
    put_u64(info ? (uint64_t)(uintptr_t)info->si_addr : 0);
    put_u64((uint64_t)armed_run);
    put_u32((uint32_t)getpid());
    put_u32((uint32_t)tid);
    put_u32(armed_epoch);
    put_u32(0);
    put(&clock_info.nsPerTick, 8);
    put_u64(clock_info.tickOrigin);
    put_u64(clock_info.nsOrigin);
    put_u64(clock_info.sessionStartNs);
    put_u64(ct_ticks());
    uint32_t count = 0;
    for (int i = 0; i < CT_CRASH_MAX_THREADS; i++) {
        thread_slot t = threads[i];
        if (!t.trace) continue;
        put_thread(&t, tid);
        count++;
    }
    put_u16(4);
    put_u16(0);
    put_u32(4);
    put_u32(count);
    flush_out();
    close(out_fd);
}

static void on_crash(int sig, siginfo_t *info, void *context) {
    (void)context;
    int saved = errno;
    int index = 0;
    while (index < SIGNAL_COUNT && crash_signals[index] != sig) index++;
    if (__atomic_load_n(&armed, __ATOMIC_ACQUIRE)) {
        if (__atomic_exchange_n(&crashing, 1, __ATOMIC_SEQ_CST) == 0) {
            write_record(sig, info);
            __atomic_store_n(&record_done, 1, __ATOMIC_SEQ_CST);
        } else {
            // Another thread is writing the record: let it finish (at most ~1 s) before this
            // thread's signal ends the process.
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
            for (int i = 0; i < 1000 && !__atomic_load_n(&record_done, __ATOMIC_SEQ_CST); i++) nanosleep(&pause, 0);
        }
    }
    // Hand the signal to whoever had it before (the Swift runtime's backtracer, or the default
    // action): a fault happens again when this handler returns; a sent signal is sent again.
    if (index < SIGNAL_COUNT) {
        sigaction(sig, &previous[index], 0);
    } else {
        signal(sig, SIG_DFL);
    }
    if (!info || info->si_code <= 0) raise(sig);
    errno = saved;
}

// MARK: Set-up (off the signal path)

static void install(void) {
    if (installed) return;
    installed = 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_crash;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    for (int i = 0; i < SIGNAL_COUNT; i++) sigaction(crash_signals[i], &action, &previous[i]);
}

static void give_altstack(void) {
    stack_t current;
    if (sigaltstack(0, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;
    void *memory = mmap(0, ALTSTACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return;
    stack_t stack = {.ss_sp = memory, .ss_flags = 0, .ss_size = ALTSTACK_BYTES};
    if (sigaltstack(&stack, 0) != 0) {
        munmap(memory, ALTSTACK_BYTES);
        return;
    }
    own_altstack = memory;
}

int ct_crash_arm(const char *path, int64_t runID, uint32_t epoch, uint64_t firstSpanID, const ct_crash_layout *l,
                 const ct_crash_clock *clock) {
    size_t n = strlen(path);
    if (n >= sizeof crash_path) return -1;
    pthread_mutex_lock(&registry_lock);
    __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
    memcpy(crash_path, path, n + 1);
    armed_run = runID;
    armed_epoch = epoch;
    armed_first_span = firstSpanID;
    layout = *l;
    clock_info = *clock;
    // Names belong to one session (string and shape ids are its interner's); modules are
    // described again in every session.
    for (int i = 0; i < NAME_SLOTS; i++) __atomic_store_n(&names[i].key, 0, __ATOMIC_RELAXED);
    arena_used = 0;
    install();
    __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&registry_lock);
    give_altstack();
    return 0;
}

void ct_crash_disarm(int64_t runID) {
    pthread_mutex_lock(&registry_lock);
    if (armed_run == runID) __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&registry_lock);
}

int ct_crash_armed(void) { return __atomic_load_n(&armed, __ATOMIC_ACQUIRE); }

void ct_crash_add_thread(void *trace, uint16_t index, int32_t osThreadID) {
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < CT_CRASH_MAX_THREADS; i++) {
        if (threads[i].trace) continue;
        threads[i].index = index;
        threads[i].tid = osThreadID;
        __atomic_store_n(&threads[i].trace, trace, __ATOMIC_RELEASE);
        break;
    }
    pthread_mutex_unlock(&registry_lock);
    give_altstack();
}

int ct_crash_remove_thread(void *trace) {
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < CT_CRASH_MAX_THREADS; i++) {
        if (threads[i].trace == trace) __atomic_store_n(&threads[i].trace, 0, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&registry_lock);
    // The handler sets `crashing` before it reads any slot: if it has, it may be reading this
    // state now, so it must not be freed (the process is dying anyway).
    return __atomic_load_n(&crashing, __ATOMIC_SEQ_CST) == 0;
}

void ct_crash_begin_session(uint32_t epoch, uint64_t sessionStartNs) {
    pthread_mutex_lock(&registry_lock);
    armed_epoch = epoch;
    clock_info.sessionStartNs = sessionStartNs;
    pthread_mutex_unlock(&registry_lock);
}

void ct_crash_thread_exit(void) {
    if (!own_altstack) return;
    stack_t off = {.ss_sp = 0, .ss_flags = SS_DISABLE, .ss_size = 0};
    if (sigaltstack(&off, 0) == 0) munmap(own_altstack, ALTSTACK_BYTES);
    own_altstack = 0;
}

static void add_name(uint64_t key, const char *text1, const char *text2) {
    size_t n1 = strlen(text1), n2 = text2 ? strlen(text2) : 0;
    if (n1 > CT_CRASH_MAX_TEXT) n1 = CT_CRASH_MAX_TEXT;
    if (n2 > CT_CRASH_MAX_TEXT) n2 = CT_CRASH_MAX_TEXT;
    pthread_mutex_lock(&registry_lock);
    uint64_t i = hash_key(key);
    name_slot *slot = 0;
    for (int probe = 0; probe < NAME_PROBES; probe++, i++) {
        name_slot *s = &names[i & (NAME_SLOTS - 1)];
        if (s->key == 0 || s->key == key) {
            slot = s;
            break;
        }
    }
    if (slot && arena_used + n1 + n2 <= ARENA_BYTES) {
        // A replaced name (a module described again) gets fresh bytes: the old ones stay valid.
        memcpy(arena + arena_used, text1, n1);
        if (n2) memcpy(arena + arena_used + n1, text2, n2);
        slot->offset = arena_used;
        slot->length1 = (uint16_t)n1;
        slot->length2 = (uint16_t)n2;
        arena_used += (uint32_t)(n1 + n2);
        __atomic_store_n(&slot->key, key, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&registry_lock);
}

void ct_crash_name_module(uint32_t id, const char *path, const char *type) {
    add_name((uint64_t)NAME_MODULE << 32 | id, path, type);
}
void ct_crash_name_string(uint32_t id, const char *text) { add_name((uint64_t)NAME_STRING << 32 | id, text, 0); }
void ct_crash_name_shapes(uint32_t id, const char *text) { add_name((uint64_t)NAME_SHAPES << 32 | id, text, 0); }
