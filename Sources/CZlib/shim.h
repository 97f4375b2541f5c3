// zlib, for gzip-compressed Chrome traces (Debian: zlib1g-dev).
#include <zlib.h>
