/* Error codes shared by every layer: 0 is success, a negative VT_E* code is failure. The list
 * itself (VT_ERRNO_MAP), the enum and vt_strerror() are public, in include/vitals.h, since
 * libvitals returns them too. */
#ifndef VT_UTIL_ERROR_H
#define VT_UTIL_ERROR_H

#include "../../include/vitals.h"

#endif
