// The C++ form of the zone API (RAII): figures known by construction, checked by the e2e
// case zones_cxx.
//   "parse"   VT_ZONE: 40 calls, each making one std::string of 200 characters (1 allocation
//             of 201 bytes), every 10th failed with VT_ZONE_FAIL: 4 errors
//   "lookup"  VT_ZONE_FN in lookup(): 25 calls, no allocation
//   counter "parsed": +1 40 times
#include <cstdio>
#include <string>

#include <vitals.h>

static volatile unsigned long sink;

static void parse(int i)
{
    VT_ZONE("parse");
    std::string s(200, 'x');
    sink += s.size();
    if (i % 10 == 9)
        VT_ZONE_FAIL();
    vt_counter_add("parsed", 1);
}

static void lookup(int i)
{
    VT_ZONE_FN();
    sink += (unsigned long)i;
}

int main()
{
    for (int i = 0; i < 40; i++)
        parse(i);
    for (int i = 0; i < 25; i++)
        lookup(i);
    std::printf("zones_cxx done\n");
    return 0;
}
