#include "error.h"

const char *vt_strerror(int err)
{
    switch (err) {
    case VT_OK:
        return "success";
#define VT_ERR_CASE(name, msg)                                                                     \
    case VT_E##name:                                                                               \
        return msg;
        VT_ERRNO_MAP(VT_ERR_CASE)
#undef VT_ERR_CASE
    }
    return "unknown error";
}
