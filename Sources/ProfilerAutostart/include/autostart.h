// Starts the profiler before main when TRACEWELL_TRACE is set (see Profiler/Environment.swift).
#ifndef TRACEWELL_AUTOSTART_H
#define TRACEWELL_AUTOSTART_H
void tracewell_autostart_anchor(void);
#endif
