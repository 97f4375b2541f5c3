#include <stdlib.h>
#include "autostart.h"

// Defined in Swift (Profiler/Environment.swift).
extern void tracewell_autostart(void);

__attribute__((constructor)) static void tracewell_autostart_constructor(void) {
    if (getenv("TRACEWELL_TRACE") != NULL) tracewell_autostart();
}

// Referenced from Swift so that linkers keep this object file.
void tracewell_autostart_anchor(void) {}
