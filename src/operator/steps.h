/*
 * The words procedures are made of (see proc.h): tests of whether a step's goal is
 * already observed, the bodies of the agent operations (src/agent/API.md), and what a
 * step records when it succeeded. Every topology builds its procedures from these.
 */
#ifndef STEPS_H
#define STEPS_H

struct ttc_object;

/* Done tests: whether pod i already shows the step's goal. */
int instance_exists(const struct ttc_object *o, int i);
int daemon_up(const struct ttc_object *o, int i);
int no_database(const struct ttc_object *o, int i);
int no_partial_database(const struct ttc_object *o, int i);
int initialized(const struct ttc_object *o, int i);
int database_loaded(const struct ttc_object *o, int i);
int database_open(const struct ttc_object *o, int i);
int scheme_exists(const struct ttc_object *o, int i);
int duplicated(const struct ttc_object *o, int i);
int rep_active(const struct ttc_object *o, int i);
int rep_standby(const struct ttc_object *o, int i);
int rep_agent_running(const struct ttc_object *o, int i);
int marked_active(const struct ttc_object *o, int i);
int not_marked_active(const struct ttc_object *o, int i);
int fenced_pod_gone(const struct ttc_object *o, int i);
int fenced(const struct ttc_object *o, int i);
int fenced_unmarked(const struct ttc_object *o, int i);
int database_exists(const struct ttc_object *o, int i);
int no_half_made_database(const struct ttc_object *o, int i);
int created_or_found(const struct ttc_object *o, int i);
int not_being_created(const struct ttc_object *o, int i);
int no_admin_user_to_make(const struct ttc_object *o, int i);
int marked_ready(const struct ttc_object *o, int i);
int standby_back(const struct ttc_object *o, int i);
int roles_recorded(const struct ttc_object *o, int i);
int scheme_may_be_made_anew(const struct ttc_object *o, int i);

/* Bodies (malloc'd JSON, or NULL) of the orders to pod i. */
char *body_active(const struct ttc_object *o, int i);
char *body_active_anew(const struct ttc_object *o, int i);
char *body_idle(const struct ttc_object *o, int i);
char *body_dsn(const struct ttc_object *o, int i);
char *body_scheme(const struct ttc_object *o, int i);
char *body_peer_failed(const struct ttc_object *o, int i);
char *body_duplicate(const struct ttc_object *o, int i);
char *body_dsn_solo(const struct ttc_object *o, int i);

/* After a step succeeded. */
void mark_initialized(struct ttc_object *o, int i);
void mark_uninitialized(struct ttc_object *o, int i);
void mark_creating(struct ttc_object *o, int i);
void note_active_set(struct ttc_object *o, int i);
void keep_found_database(struct ttc_object *o, int i);

#endif
