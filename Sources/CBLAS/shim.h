// OpenBLAS's CBLAS interface (Debian: libopenblas-serial-dev).
#include <cblas.h>
