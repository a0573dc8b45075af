/*
 * deleteDbOnNotReadyNode: what the Nodes of an object's pods say, and whether a pod whose
 * node has not been ready for longer than the limit may lose its claims and be deleted so
 * that its StatefulSet makes it again elsewhere. No I/O here: nodewatch.c reads and deletes.
 */
#ifndef NOTREADY_H
#define NOTREADY_H

#include <time.h>

#include <yajl/yajl_tree.h>

struct ttc_object;

/* Nodes are read again this long after a read was refused (403). */
#define NOTREADY_RETRY_SECONDS 60

enum node_ready {
	NODE_READY,     /* its Ready condition is True */
	NODE_NOT_READY, /* False, Unknown, absent, or the Node is gone */
};

/* The Ready condition of a Node object. */
enum node_ready notready_node_condition(yajl_val node);

/* Records what a read said of pod i's node at now (not ready since the first such read). */
void notready_observe(struct ttc_object *o, int i, enum node_ready r, time_t now);

enum notready_verdict {
	NR_OFF,     /* deleteDbOnNotReadyNode is unset, or the Nodes cannot be read */
	NR_READY,   /* the pod's node is ready, or not known to be otherwise */
	NR_WAITING, /* not ready, for less than the limit */
	NR_HELD,    /* past the limit, but deleting it now could lose the pair: why says */
	NR_DELETE,  /* past the limit: delete its claims, then the pod */
};

/*
 * Whether pod i may be deleted at now (o->now_ms: the monotonic clock, for leases). A pair
 * loses a pod only while the other is the intended active and healthy, no failover is
 * fencing, no upgrade runs, and the pod's database is not held writable by an unexpired
 * self-fencing lease (docs/fencing.md): never two writable databases. why: a reason for
 * NR_HELD, "" otherwise.
 */
enum notready_verdict notready_decide(const struct ttc_object *o, int i, time_t now,
                                      const char **why);

/* Whether Nodes are to be read at now: the field is set, and no refusal is recent. */
int notready_should_read(const struct ttc_object *o, time_t now);
/* A read of a Node was refused (403) at now: the field is as if unset, what was seen of the
 * nodes is forgotten, and reads wait NOTREADY_RETRY_SECONDS. 1 when this is news (post
 * NodesUnreadable), 0 when they were unreadable already. */
int notready_refused(struct ttc_object *o, time_t now);
/* A read of a Node succeeded: 1 when they were unreadable (post NodesReadable). */
int notready_readable(struct ttc_object *o);

/* RFC 3339 in UTC ("2026-12-04T19:55:47Z"); and back (0 when malformed). */
void notready_format_time(char buf[32], time_t t);
time_t notready_parse_time(const char *s);

#endif
