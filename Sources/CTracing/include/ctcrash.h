// The flight recorder: when a traced program dies of SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE or
// SIGABRT (Swift's runtime traps arrive as SIGILL or SIGTRAP), an async-signal-safe handler writes
// every traced thread's open spans and last finished spans into `<trace>.crash`, a small file of
// fixed format (Traces/README.md), then lets the process die of the same signal.
//
// The handler allocates nothing, takes no lock and calls nothing but open/write/close/sigaction/
// raise: it reads the threads' span stacks and rings in place (their layout is measured by Swift
// and handed over once) and copies names rendered in advance into a static table, when a module
// tree is described or a name or shape list interned (off the hot path).
#ifndef CTCRASH_H
#define CTCRASH_H

#include <stdint.h>

/// Byte offsets of the Swift structures the handler reads (ThreadTrace, Frame, SpanRecord).
typedef struct {
    uint32_t traceFrames, traceDepth, traceRing, traceShared;
    uint32_t frameCapacity, ringCapacity;
    uint32_t frameStride, frameID, frameStart, frameEpoch, frameSubject, frameShapes, frameStep, frameDepth, frameKind,
        frameFlags;
    uint32_t recordStride, recordID, recordStart, recordEnd, recordSubject, recordShapes, recordStep, recordDepth,
        recordKind, recordFlags;
} ct_crash_layout;

/// The clock conversion the reader applies to the ticks in the file (nanoseconds = nsOrigin +
/// (ticks - tickOrigin) * nsPerTick).
typedef struct {
    double nsPerTick;
    uint64_t tickOrigin;
    uint64_t nsOrigin;
    uint64_t sessionStartNs;
} ct_crash_clock;

/// Arms the recorder for one run: installs the handlers (once per process; the previous handlers
/// are kept and chained to), an alternate signal stack for the calling thread, and clears the name
/// table. `path` is copied (at most 4095 bytes). Spans with ids below `firstSpanID` or of another
/// session than `epoch` are not this run's. Returns 0, or -1 when the path is too long.
int ct_crash_arm(const char *path, int64_t runID, uint32_t epoch, uint64_t firstSpanID, const ct_crash_layout *layout,
                 const ct_crash_clock *clock);
/// Disarms the recorder if `runID` is the run it was armed for (the run ended normally).
void ct_crash_disarm(int64_t runID);
/// True while armed.
int ct_crash_armed(void);

/// Registers a thread's trace state (`ThreadTrace *`) for the handler and gives the calling thread
/// an alternate signal stack unless it has one (so a stack overflow can still be recorded).
void ct_crash_add_thread(void *trace, uint16_t index, int32_t osThreadID);
/// Forgets a thread's trace state before it is freed. Returns 0 when the state must not be freed
/// (a crash record is being written and may be reading it).
int ct_crash_remove_thread(void *trace);
/// The session the armed run records, once it has started: its epoch and time zero (monotonic ns).
void ct_crash_begin_session(uint32_t epoch, uint64_t sessionStartNs);
/// Frees the calling thread's alternate signal stack if the recorder made it (at thread exit).
void ct_crash_thread_exit(void);

/// Names for the handler, copied into a static table (full: ignored). Modules by trace id;
/// strings and shape lists by their interned id in the armed session.
void ct_crash_name_module(uint32_t id, const char *path, const char *type);
void ct_crash_name_string(uint32_t id, const char *text);
void ct_crash_name_shapes(uint32_t id, const char *text);

/// The file format's version and the number of finished spans kept per thread.
enum { CT_CRASH_VERSION = 1, CT_CRASH_LAST_SPANS = 32, CT_CRASH_MAX_THREADS = 1024, CT_CRASH_MAX_TEXT = 1024 };

#endif
