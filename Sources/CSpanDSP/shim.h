// The one C header pbxd takes from spandsp (DESIGN.md §1). spandsp.h on Debian 12 (0.0.6) uses
// the fixed-width integer types without including <stdint.h>, and includes <tiffio.h>
// (libtiff-dev, a dependency of libspandsp-dev) for its fax modules.
#ifndef PBXD_CSPANDSP_SHIM_H
#define PBXD_CSPANDSP_SHIM_H
#include <stdint.h>
#include <stdbool.h>
#include <spandsp.h>
#endif
