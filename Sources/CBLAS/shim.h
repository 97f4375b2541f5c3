// OpenBLAS's CBLAS interface (Debian: libopenblas-serial-dev).
#include <cblas.h>

// Debian builds OpenBLAS with DYNAMIC_ARCH. These re-run its kernel selection, which
// honours OPENBLAS_CORETYPE (see Tensors/Kernels/Gemm.swift).
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);
