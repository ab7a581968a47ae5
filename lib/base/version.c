#include <canto/version.h>

#define STR2(x) #x
#define STR(x) STR2(x)

const char *canto_version(void)
{
    return STR(CANTO_VERSION_MAJOR) "." STR(CANTO_VERSION_MINOR) "." STR(CANTO_VERSION_PATCH);
}

unsigned canto_version_number(void)
{
    return CANTO_VERSION_NUMBER;
}
