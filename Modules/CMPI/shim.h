// Open MPI's C interface (Debian: libopenmpi-dev openmpi-bin; `scripts/setup.sh --mpi`).
// The handles MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_BYTE, MPI_IN_PLACE and MPI_STATUS_IGNORE are macros over
// addresses of incomplete structs, which do not import into Swift: these getters give Swift
// the same names.
#if __has_include(<mpi.h>)
#include <mpi.h>
#else
#error "mpi.h not found: run  scripts/setup.sh --mpi  (apt-get install -y libopenmpi-dev openmpi-bin pkg-config)"
#endif

static inline MPI_Comm dbn_mpi_comm_world(void) __attribute__((swift_name("getter:MPI_COMM_WORLD()")));
static inline MPI_Comm dbn_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype dbn_mpi_float(void) __attribute__((swift_name("getter:MPI_FLOAT()")));
static inline MPI_Datatype dbn_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype dbn_mpi_byte(void) __attribute__((swift_name("getter:MPI_BYTE()")));
static inline MPI_Datatype dbn_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op dbn_mpi_sum(void) __attribute__((swift_name("getter:MPI_SUM()")));
static inline MPI_Op dbn_mpi_sum(void) { return MPI_SUM; }
static inline void *dbn_mpi_in_place(void) __attribute__((swift_name("getter:MPI_IN_PLACE()")));
static inline void *dbn_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Status *dbn_mpi_status_ignore(void) __attribute__((swift_name("getter:MPI_STATUS_IGNORE()")));
static inline MPI_Status *dbn_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
