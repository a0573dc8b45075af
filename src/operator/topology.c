/* The topologies the operator knows (see topology.h). */
#include "config.h"

#include <string.h>

#include "topology.h"

const struct topology *const topologies[] = {&pair_topology, &nonrep_topology, NULL};

const struct topology *
topology_of(int id)
{
	for (int i = 0; topologies[i]; i++)
		if (topologies[i]->id == id)
			return topologies[i];
	return NULL;
}

const struct topology *
topology_named(const char *name)
{
	for (int i = 0; topologies[i]; i++)
		if (strcmp(topologies[i]->name, name) == 0)
			return topologies[i];
	return NULL;
}
