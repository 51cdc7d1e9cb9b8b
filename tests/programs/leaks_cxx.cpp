// C++ leaks: 11 x new Widget (24 B) from app::make_widget(int), 7 x new char[100] from
// app::make_buffer(int), and new/delete pairs in app::round_trips() that must not leak.
#include <unistd.h>

#include "e2e-prog.h"

namespace app
{
struct Widget {
    long a, b, c;
};
static_assert(sizeof(Widget) == 24, "the test expects a 24-byte Widget");

NOINLINE Widget *make_widget(int v)
{
    return new Widget{v, v, v}; // @NEW
}

NOINLINE char *make_buffer(int n)
{
    return new char[n]; // @NEWARRAY
}

NOINLINE long round_trips()
{
    long sum = 0;
    for (int i = 0; i < 13; i++) {
        Widget *w = new Widget{i, i, i};
        sum += w->a;
        delete w;
    }
    for (int i = 0; i < 4; i++) {
        char *b = new char[50];
        b[0] = 1;
        sum += b[0];
        delete[] b;
    }
    return sum;
}
} // namespace app

static app::Widget *widgets[11];
static char *buffers[7];

int main()
{
    for (int i = 0; i < 11; i++)
        widgets[i] = app::make_widget(i);
    for (int i = 0; i < 7; i++)
        buffers[i] = app::make_buffer(100);
    if (app::round_trips() != 78 + 4)
        return 3;
    e2e_write(1, "leaks_cxx done\n");
    return 0;
}
