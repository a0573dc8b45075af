/*
 * .status of a TimesTenClassic: written from the object (the operator's durable memory
 * and what users read with kubectl describe) and read back after a restart.
 */
#ifndef STATUS_H
#define STATUS_H

#include <time.h>

#include <yajl/yajl_tree.h>

struct ttc_object;

/* The per-pod high-level state shown in status (Healthy, Down, Unknown, …). */
const char *status_pod_state(const struct ttc_object *o, int i, time_t now);

/* Notes each pod's high-level state at time now, and when it changed (for status). */
void status_track_pods(struct ttc_object *o, time_t now);

/* The merge-patch body {"status":{…}} for the object, malloc'd, or NULL. */
char *status_patch(const struct ttc_object *o, time_t now);

/* Restores what the operator remembers from a status; 0, or -1 when there is none. */
int status_restore(struct ttc_object *o, yajl_val status);

#endif
