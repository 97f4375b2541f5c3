// Open MPI (Debian: libopenmpi-dev openmpi-bin), found through pkg-config `ompi-c`.
// Swift cannot import MPI's handle macros (MPI_COMM_WORLD, MPI_FLOAT, ...): these
// inline functions hand them over.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype cmpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op cmpi_op_sum(void) { return MPI_SUM; }
static inline MPI_Op cmpi_op_max(void) { return MPI_MAX; }
static inline MPI_Op cmpi_op_min(void) { return MPI_MIN; }
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline MPI_Status *cmpi_statuses_ignore(void) { return MPI_STATUSES_IGNORE; }

/// Makes MPI errors on the world communicator return codes instead of aborting.
static inline int cmpi_errors_return(void) {
    return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

/// MPI_Error_string into a caller's buffer of at least MPI_MAX_ERROR_STRING bytes.
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
