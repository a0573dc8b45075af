/*
 * A topology: how the pods of a TimesTenClassic work together (replicationTopology). Each
 * is one file holding its state machine table, its situation classifier and its
 * procedures (pair.c: activeStandbyPair; nonrep.c: none); the controller knows topologies only
 * through this struct. A new topology is a new file with one of these, listed in topology.c.
 */
#ifndef TOPOLOGY_H
#define TOPOLOGY_H

#include <stddef.h>
#include <time.h>

struct fsm_table;
struct proc;
struct ttc_object;
struct ttc_spec;

struct topology {
	const char *name; /* the replicationTopology value */
	int id;           /* enum replication_topology */
	const struct fsm_table *table;
	/* How many pods an object with this spec has (the StatefulSet's replicas). */
	int (*pods)(const struct ttc_spec *spec);
	/* What the topology needs from the spec before the machine starts (the pair: its
	 * replication scheme); 0, or -1 with err (the object fails). */
	int (*prepare)(struct ttc_object *o, char *err, size_t errlen);
	/* The situation event after an observation of every pod at time now (it may record
	 * what it saw, such as the active last seen serving), or -1: nothing to say yet. */
	int (*situation)(struct ttc_object *o, time_t now);
	/* The procedure the object's state runs now, or NULL when it only waits. */
	const struct proc *(*procedure)(const struct ttc_object *o);
	/* Whether one pod is the active (status activePods names it; else "N/A"). */
	int has_active;
	/* Whether the operator carries out image upgrades itself (upgrade.h), rather than
	 * the StatefulSet. */
	int upgrades;
	/* Pod i's high-level state in status (Healthy, Down, Normal, …). */
	const char *(*pod_state)(const struct ttc_object *o, int i, time_t now);
};

extern const struct topology pair_topology;   /* pair.c */
extern const struct topology nonrep_topology; /* nonrep.c */

/* The topology of a spec's replicationTopology (enum replication_topology); NULL if none. */
const struct topology *topology_of(int id);
/* By name, as --dump-fsm=NAME gives it; NULL if none. */
const struct topology *topology_named(const char *name);
/* Every topology, NULL-terminated. */
extern const struct topology *const topologies[];

#endif
