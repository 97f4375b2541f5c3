#ifndef TRACEWELL_INTERRUPT_H
#define TRACEWELL_INTERRUPT_H

// SIGINT and SIGTERM while a profiler runs: the handler (async-signal-safe) writes the signal
// number to a pipe that a Swift thread waits on, which finishes the trace and then calls
// tracewell_reraise. A second signal ends the process at once with the default action.

/// Installs the handlers once; returns the pipe's read end (-1 on failure).
int tracewell_install_interrupt_handlers(void);

/// Restores the default action of `sig` and raises it: the process ends with the signal's usual status.
void tracewell_reraise(int sig);

#endif
