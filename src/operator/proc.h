/*
 * Procedures: the work a state does, as tables of steps. Each step is an order to one
 * pod's agent (or a wait), skipped when what it would achieve is already observed. The
 * runner starts one step at a time and turns the end of the table, or a step that cannot
 * succeed, into the PROC_DONE or PROC_FAILED event of the state machine.
 */
#ifndef PROC_H
#define PROC_H

#include <time.h>

struct ttc_object;

/* Which pod a step is for. */
enum proc_target {
	TARGET_ACTIVE,  /* the intended active */
	TARGET_STANDBY, /* the intended standby */
	TARGET_FENCED,  /* the old active being fenced */
	TARGET_POD,     /* the pod the topology chose to work on (o->target) */
	PROC_NTARGETS
};

#define STEP_FENCING 1u /* when the pod cannot be told, delete it (FENCE_GRACE_SECONDS) instead */
#define STEP_WAIT 2u    /* no order: wait until done() holds */
#define STEP_ASYNC 4u   /* the order runs in the background (duplicate) */
#define STEP_NOTE 8u    /* no order: when not done, after() records it and the run goes on */

struct proc_step {
	const char *name; /* for logs and Events */
	enum proc_target target;
	unsigned flags;
	/* Whether the step's goal is already observed (NULL: never, always order). */
	int (*done)(const struct ttc_object *o, int pod);
	/* The agent operation and its JSON body (malloc'd, may be NULL) for the order. */
	const char *op;
	char *(*body)(const struct ttc_object *o, int pod);
	/* Called when the order succeeded (e.g. to remember it in status); may be NULL. */
	void (*after)(struct ttc_object *o, int pod);
};

struct proc {
	const char *name;
	const struct proc_step *steps;
	size_t nsteps;
};

/* Rows of a topology's procedure tables. */
#define STEP(name, target, flags, done, op, body, after)                                           \
	{                                                                                          \
		name, TARGET_##target, flags, done, op, body, after                                \
	}
#define PROC(name, steps)                                                                          \
	{                                                                                          \
		name, steps, sizeof(steps) / sizeof(steps[0])                                      \
	}

/* How an order ended. */
enum order_result {
	ORDER_OK,
	ORDER_FAILED,    /* the agent refused or TimesTen failed: do not repeat as is */
	ORDER_TRANSIENT, /* no answer, timeout, busy (409): try again later */
};

/* The state of a procedure run in an object. */
struct proc_run {
	const struct proc *proc;
	size_t next;       /* index of the step under way or to start */
	int inflight;      /* an order is out */
	unsigned work;     /* the object's work counter when the order left */
	int attempts;      /* transient failures of the current step */
	time_t retry_at;   /* no new order before this */
	int deleting;      /* a fencing deletion was sent for the current step */
	int lease_told;    /* the Event saying a lease proved the fence was posted */
	int reported;      /* the end was reported (PROC_DONE or PROC_FAILED) */
	int need_fresh;    /* an order just succeeded: wait for a state read made after it */
	char uid[PROC_NTARGETS][64]; /* each target's pod as the run started: a new pod
	                                starts it over */
	char failure[512]; /* why the procedure failed, "" while it has not */
	char said[512];    /* what the agent said of the last order that succeeded */
};

/* What the runner does now: nothing to do, wait, or the procedure ended. */
enum proc_outcome { PROC_IDLE, PROC_WAITING, PROC_DONE, PROC_FAILED };

/*
 * Advances the run of the object's current state's procedure at time now: skips done
 * steps, starts the next order through the object's effects. Returns PROC_DONE or
 * PROC_FAILED once, when the procedure ends.
 */
enum proc_outcome proc_advance(struct ttc_object *o, time_t now);
/* An order sent by proc_advance ended (work is what was recorded when it left). */
void proc_order_done(struct ttc_object *o, unsigned work, enum order_result r, const char *message,
                     time_t now);
/* Drops the run (a new state starts its own). */
void proc_reset(struct ttc_object *o);

#endif
