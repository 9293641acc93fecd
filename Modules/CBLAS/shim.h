// OpenBLAS's CBLAS interface and LAPACKE (Debian: libopenblas-dev, liblapacke-dev).
#if __has_include(<cblas.h>)
#include <cblas.h>
#else
#error "cblas.h not found: run  sudo apt-get install -y libopenblas-dev pkg-config"
#endif
#if __has_include(<lapacke.h>)
#include <lapacke.h>
#else
#error "lapacke.h not found: run  sudo apt-get install -y liblapacke-dev"
#endif
