// zlib (Debian: zlib1g-dev), for reading .gz files and writing PNG.
#if __has_include(<zlib.h>)
#include <zlib.h>
#else
#error "zlib.h not found: run  sudo apt-get install -y zlib1g-dev"
#endif
