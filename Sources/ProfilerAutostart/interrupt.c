#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "interrupt.h"

static int interrupt_pipe[2] = {-1, -1};
static volatile sig_atomic_t interrupts = 0;

static void on_interrupt(int sig) {
    int saved = errno;
    if (interrupts++ > 0) {
        // The second one: do not wait for the trace.
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    unsigned char byte = (unsigned char)sig;
    if (write(interrupt_pipe[1], &byte, 1) != 1) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    errno = saved;
}

int tracewell_install_interrupt_handlers(void) {
    if (interrupt_pipe[0] >= 0) return interrupt_pipe[0];
    if (pipe2(interrupt_pipe, O_CLOEXEC) != 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    // A handler for a blocked signal never runs: a process started with them blocked (some
    // launchers pass their mask on) gets them delivered to this thread.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
    return interrupt_pipe[0];
}

void tracewell_reraise(int sig) {
    signal(sig, SIG_DFL);
    raise(sig);
}
