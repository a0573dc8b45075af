/*
 * Self-monitoring: how late the event loop runs a periodic timer (the evidence that
 * nothing blocks it), and the standard process_* metrics.
 */
#ifndef TTC_SELFMON_H
#define TTC_SELFMON_H

struct event_base;
struct metrics;
struct looplag;

/* Registers <prefix>_event_loop_lag_seconds and starts measuring every interval_ms. */
struct looplag *looplag_start(struct event_base *base, struct metrics *reg, const char *prefix,
                              int interval_ms);
void looplag_free(struct looplag *l);
/* Lag samples taken so far, and the largest one in seconds (for logs and tests). */
unsigned long looplag_samples(const struct looplag *l);
double looplag_max(const struct looplag *l);

/* Registers process_start_time_seconds, process_cpu_seconds_total, resident and virtual
 * memory and open file descriptors, read from /proc at scrape time. */
int procstats_register(struct metrics *reg);

/* Registers <prefix>_heap_inuse_bytes and <prefix>_heap_free_bytes: what malloc has handed
 * out and what it holds free (glibc's mallinfo2(); not registered without it). The free
 * part is in the resident set where touched: resident - inuse is what allocation costs
 * beyond the data. */
int heapstats_register(struct metrics *reg, const char *prefix);

/* Every interval_ms, gives the free pages malloc holds back to the system (glibc's
 * malloc_trim): a heap that grew while many objects were made, then freed much of it,
 * stops counting that in the resident set. NULL without malloc_trim or on failure
 * (nothing to free then). */
struct heaptrim;
struct heaptrim *heaptrim_start(struct event_base *base, int interval_ms);
void heaptrim_free(struct heaptrim *t);

#endif
