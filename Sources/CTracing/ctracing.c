#define _GNU_SOURCE
#include "ctracing.h"
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

__thread ct_thread_state ct_tls __attribute__((tls_model("initial-exec")));
int32_t ct_flags = 0;
int64_t ct_live_bytes = 0;
int64_t ct_peak_bytes = 0;
uint32_t ct_epoch = 0;
uint32_t ct_step = 0;
uint64_t ct_next_span_block = 1;
uint64_t ct_next_sequence = 1;
void *ct_session = 0;
uint32_t ct_thread_group = 0;

static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static void (*exit_destructor)(void *) = 0;

static void run_exit_destructor(void *context) {
    if (exit_destructor && context) exit_destructor(context);
}
static void make_exit_key(void) { pthread_key_create(&exit_key, run_exit_destructor); }

void ct_register_thread_exit(void (*destructor)(void *), void *context) {
    pthread_once(&exit_once, make_exit_key);
    exit_destructor = destructor;
    pthread_setspecific(exit_key, context);
}

int32_t ct_thread_id(void) { return (int32_t)syscall(SYS_gettid); }

static size_t ring_mapping(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    return (bytes + huge - 1) & ~(huge - 1);
}

void *ct_ring_allocate(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    size_t size = ring_mapping(bytes);
    // Mapped directly (not malloc: glibc would serve a later ring from its heap once a freed one
    // raised its mmap threshold), with room to align the start to a huge page.
    char *raw = mmap(0, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return 0;
    char *ring = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
    if (ring > raw) munmap(raw, (size_t)(ring - raw));
    size_t tail = (size_t)(raw + size + huge - (ring + size));
    if (tail > 0) munmap(ring + size, tail);
    // Advice only: where transparent huge pages are off the ring works as before.
    madvise(ring, size, MADV_HUGEPAGE);
    // Fault the pages in now, when the thread registers, not in the middle of recording spans.
    for (size_t at = 0; at < size; at += 4096) ((volatile char *)ring)[at] = 0;
    return ring;
}

void ct_ring_free(void *ring, size_t bytes) {
    if (ring) munmap(ring, ring_mapping(bytes));
}
