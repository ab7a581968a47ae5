/* RFC 2782 target selection, as a pure function of the records and a random
 * source, so the exact orders can be tested with a scripted source. */
#include "net/resolver.h"

#include <string.h>

/* Uniform value in [0, bound] (inclusive, as RFC 2782 asks). Rejection keeps it
 * unbiased; the retry cap only matters for a broken source. */
static uint32_t uniform_upto(canto__rand_fn rnd, void *ud, uint32_t bound)
{
    uint64_t range = (uint64_t)bound + 1;
    uint64_t limit = ((uint64_t)1 << 32) - (((uint64_t)1 << 32) % range);
    uint32_t v = rnd(ud);
    for (int i = 0; i < 32 && v >= limit; i++)
        v = rnd(ud);
    return (uint32_t)(v % range);
}

/* Moves order[from] to order[to] (to <= from), keeping the others' order. */
static void move_to(size_t *order, size_t to, size_t from)
{
    size_t v = order[from];
    memmove(order + to + 1, order + to, (from - to) * sizeof(*order));
    order[to] = v;
}

void canto__srv_order(const canto__srv_record *recs, size_t n, canto__rand_fn rnd, void *rnd_ud,
                      size_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* Stable insertion sort by priority: n is a handful of records. */
    for (size_t i = 1; i < n; i++) {
        size_t j = i;
        while (j > 0 && recs[order[j - 1]].priority > recs[order[i]].priority)
            j--;
        move_to(order, j, i);
    }
    for (size_t start = 0; start < n;) {
        size_t end = start;
        while (end < n && recs[order[end]].priority == recs[order[start]].priority)
            end++;
        /* Weight-0 records go to the front of the unordered list. */
        size_t zeros = start;
        for (size_t i = start; i < end; i++)
            if (recs[order[i]].weight == 0)
                move_to(order, zeros++, i);
        for (size_t pos = start; pos + 1 < end; pos++) {
            uint32_t total = 0;
            for (size_t i = pos; i < end; i++)
                total += recs[order[i]].weight;
            /* All weights 0: nothing to draw, the list order stands. */
            uint32_t pick = total ? uniform_upto(rnd, rnd_ud, total) : 0;
            uint32_t running = 0;
            size_t chosen = end - 1;
            for (size_t i = pos; i < end; i++) {
                running += recs[order[i]].weight;
                if (running >= pick) {
                    chosen = i;
                    break;
                }
            }
            move_to(order, pos, chosen);
        }
        start = end;
    }
}
