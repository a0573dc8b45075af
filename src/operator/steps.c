/* The words procedures are made of (see steps.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "object.h"
#include "objects.h"
#include "lease.h"
#include "steps.h"
#include "ttc/json.h"

static const struct agent_state *
st(const struct ttc_object *o, int i)
{
	return &o->pods[i].st;
}

/* Done tests. */

int
instance_exists(const struct ttc_object *o, int i)
{
	return st(o, i)->instance == INSTANCE_EXISTS;
}

int
daemon_up(const struct ttc_object *o, int i)
{
	return st(o, i)->daemon == DAEMON_UP;
}

int
no_database(const struct ttc_object *o, int i)
{
	return st(o, i)->db == DB_NONE;
}

/* Initializing: a database left by an interrupted initialisation is cleared first. */
int
no_partial_database(const struct ttc_object *o, int i)
{
	return no_database(o, i) || o->pods[i].initialized;
}

int
initialized(const struct ttc_object *o, int i)
{
	return o->pods[i].initialized;
}

int
database_loaded(const struct ttc_object *o, int i)
{
	return st(o, i)->db == DB_LOADED;
}

/* Not closed to user connections (ttAdmin -close, as a quiesce leaves it). */
int
database_open(const struct ttc_object *o, int i)
{
	return st(o, i)->open != UPDATABLE_NO;
}

int
scheme_exists(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_scheme == SCHEME_EXISTS;
}

int
duplicated(const struct ttc_object *o, int i)
{
	return database_loaded(o, i) && scheme_exists(o, i);
}

int
rep_active(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_state == REP_ACTIVE;
}

int
rep_standby(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_state == REP_STANDBY;
}

int
rep_agent_running(const struct ttc_object *o, int i)
{
	return st(o, i)->rep_agent == RUNNING_YES;
}

int
marked_active(const struct ttc_object *o, int i)
{
	return o->pods[i].reachable && st(o, i)->active_marker;
}

int
not_marked_active(const struct ttc_object *o, int i)
{
	return o->pods[i].reachable && !st(o, i)->active_marker;
}

/* The pod being fenced is gone, or is a new one. */
int
fenced_pod_gone(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];

	return !p->exists || strcmp(p->uid, o->fence_uid) != 0;
}

/* The old active's database can no longer take writes: its pod is gone, its lease ran
 * out, or its agent shows it cannot (daemon down, no database loaded, not updatable, or
 * loaded in a state other than ACTIVE). "Unknown" proves nothing. */
int
fenced(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];
	const struct agent_state *st = &p->st;

	if (fenced_pod_gone(o, i) || lease_ran_out(o, i, o->fence_uid))
		return 1;
	if (!p->reachable || p->terminating)
		return 0;
	return st->daemon == DAEMON_DOWN || st->db == DB_NONE || st->db == DB_UNLOADED ||
	       st->updatable == UPDATABLE_NO ||
	       (st->db == DB_LOADED && st->rep_state != REP_ACTIVE && st->rep_state != REP_UNKNOWN);
}

/* ... and the Service no longer leads to it (a database fenced by its lease also left
 * the Service: its agent removed /tmp/active first). */
int
fenced_unmarked(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];

	return fenced_pod_gone(o, i) || lease_ran_out(o, i, o->fence_uid) ||
	       (p->reachable && !p->terminating && !p->st.active_marker);
}

/* ActiveTakeover: the standby is back as the healthy STANDBY of active i. */
int
standby_back(const struct ttc_object *o, int i)
{
	int s = i == 0 ? 1 : 0;

	return o->npods == 2 && o->pods[s].role == ROLE_STANDBY &&
	       object_pod_class(o, s, o->now) == POD_HEALTHY;
}

/* The status written last names the roles as they are now (object.h, roles_gen). */
int
roles_recorded(const struct ttc_object *o, int i)
{
	(void)i;
	return o->roles_recorded == o->roles_gen;
}

/*
 * BothDown: whether the database of pod i may become the ACTIVE of a replication scheme
 * made anew when TimesTen refuses to set it ACTIVE under its own (TT8141: deactivated,
 * as its lease does when no operator renews it, e.g. while the operator is away during
 * a standby's rebuild). TimesTen's recovery from a dual failure does the same for an
 * ex-standby. It loses nothing only for the database that is ahead, or was serving as the
 * active when both were lost with no failover decided (o->anew, set by the pair's
 * BothDown), and only while the other pod's agent answers and shows a database that takes
 * no writes and is not a STANDBY to promote: daemon down, no database or not loaded, or
 * loaded in a state other than ACTIVE and STANDBY. That database is rebuilt from this one
 * afterwards.
 */
int
scheme_may_be_made_anew(const struct ttc_object *o, int i)
{
	int j = i == 0 ? 1 : 0;
	const struct pod_view *p;
	const struct agent_state *s;

	if (o->anew != i || o->npods != 2 || o->rep_statement == NULL)
		return 0;
	p = &o->pods[j];
	s = &p->st;
	if (!p->exists || p->terminating || !p->reachable)
		return 0;
	return s->daemon == DAEMON_DOWN || s->db == DB_NONE || s->db == DB_UNLOADED ||
	       (s->db == DB_LOADED && s->rep_state != REP_ACTIVE && s->rep_state != REP_STANDBY &&
	        s->rep_state != REP_UNKNOWN);
}

/* Bodies. */

/* {"key": "value"} */
static char *
body_one(const char *key, const char *value)
{
	struct jw w;

	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, key, value);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

char *
body_active(const struct ttc_object *o, int i)
{
	(void)o;
	(void)i;
	return body_one("state", "ACTIVE");
}

/* ConfiguringActive: ACTIVE, under a scheme made anew if TimesTen refuses and it may be. */
char *
body_active_anew(const struct ttc_object *o, int i)
{
	struct jw w;

	if (!scheme_may_be_made_anew(o, i))
		return body_active(o, i);
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "state", "ACTIVE");
	jw_kstr(&w, "statement", o->rep_statement);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

char *
body_idle(const struct ttc_object *o, int i)
{
	(void)o;
	(void)i;
	return body_one("state", "IDLE");
}

/* The DSN attributes the operator sets on both databases of a pair. */
static void
dsn_attributes(struct jw *w)
{
	jw_key(w, "attributes");
	jw_obj(w);
	jw_kint(w, "DDLReplicationLevel", 3);
	jw_kint(w, "ForceDisconnectEnabled", 1); /* a standby rebuilt forces its users off */
	jw_obj_end(w);
}

/* The database's DSN is the object's name. */
char *
body_dsn(const struct ttc_object *o, int i)
{
	struct jw w;

	(void)i;
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "dsn", o->name);
	dsn_attributes(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

char *
body_scheme(const struct ttc_object *o, int i)
{
	(void)i;
	return body_one("statement", o->rep_statement);
}

/* The standby, as the replication scheme names it, recorded FAILED on the active. */
char *
body_peer_failed(const struct ttc_object *o, int i)
{
	struct jw w;
	char host[300];

	objects_pod_fqdn(host, sizeof(host), o->name, o->ns, i == 0 ? 1 : 0);
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "peer", o->name);
	jw_kstr(&w, "host", host);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

/* Duplicate from the active, named as the replication scheme names it. */
char *
body_duplicate(const struct ttc_object *o, int i)
{
	struct jw w;
	char host[300];
	int from = i == 0 ? 1 : 0;

	objects_pod_fqdn(host, sizeof(host), o->name, o->ns, from);
	if (jw_init(&w) < 0)
		return NULL;
	jw_obj(&w);
	jw_kstr(&w, "from", o->name);
	jw_kstr(&w, "host", host);
	jw_kstr(&w, "dsn", o->name);
	dsn_attributes(&w);
	if (*o->pods[from].ip)
		jw_kstr(&w, "remoteIP", o->pods[from].ip);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

void
mark_initialized(struct ttc_object *o, int i)
{
	o->pods[i].initialized = 1;
	o->pods[i].creating = 0;
}

/* ConfiguringActive made the chosen database ACTIVE: when the scheme could have been made
 * anew, an Event says what the agent did (the other pod's database is rebuilt next). */
void
note_active_set(struct ttc_object *o, int i)
{
	int offered = scheme_may_be_made_anew(o, i);
	char pod[300];

	if (o->anew != i)
		return;
	o->anew = -1;
	if (!offered)
		return; /* the order had no scheme to make anew */
	objects_pod_name(pod, sizeof(pod), o->name, i);
	object_event(o, 1, "ActiveConfigured", "Pod %s: %s", pod,
	             o->run.said[0] ? o->run.said : "its database is the ACTIVE");
}

void
mark_uninitialized(struct ttc_object *o, int i)
{
	o->pods[i].initialized = 0;
	o->pods[i].creating = 0;
}

/* Non-replicated databases. */

int
database_exists(const struct ttc_object *o, int i)
{
	return st(o, i)->db == DB_LOADED || st(o, i)->db == DB_UNLOADED;
}

/* A database the operator created and did not finish (users, schema) is half made. */
int
no_half_made_database(const struct ttc_object *o, int i)
{
	const struct pod_view *p = &o->pods[i];

	return !(p->creating && !p->initialized && database_exists(o, i));
}

/* Created and finished, or found on the pod's volume (kept as it is). */
int
created_or_found(const struct ttc_object *o, int i)
{
	return o->pods[i].initialized || database_exists(o, i);
}

/* The database's users and schema are not the operator's to make: done, or found. */
int
not_being_created(const struct ttc_object *o, int i)
{
	return o->pods[i].initialized || !o->pods[i].creating;
}

/* ... nor the admin user when /ttconfig has no adminUser. */
int
no_admin_user_to_make(const struct ttc_object *o, int i)
{
	return not_being_created(o, i) || !st(o, i)->admin_user_file;
}

int
marked_ready(const struct ttc_object *o, int i)
{
	return o->pods[i].reachable && st(o, i)->ready_marker;
}

void
mark_creating(struct ttc_object *o, int i)
{
	o->pods[i].creating = 1;
}

/* A database found on a volume the operator has no record of making is kept. */
void
keep_found_database(struct ttc_object *o, int i)
{
	char pod[300];

	mark_initialized(o, i);
	objects_pod_name(pod, sizeof(pod), o->name, i);
	object_event(o, 0, "DatabaseKept", "Pod %s holds a database on its volume: kept as it is",
	             pod);
}

/* A database of its own: the DSN is the object's name. */
char *
body_dsn_solo(const struct ttc_object *o, int i)
{
	(void)i;
	return body_one("dsn", o->name);
}
