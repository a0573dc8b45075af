/*
 * TimesTen utilities as child processes, without ever blocking the loop: a pipe read by
 * libevent for their output, SIGCHLD through libevent for their end, a timer that kills
 * them when they run past their time limit. They stay in the agent's process group, the
 * container's: what they leave running (a daemon) belongs to the pod.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "agent.h"

/* After a utility exits, how long its output pipe may stay open (a daemon it started may
 * hold it) before the result is delivered anyway. */
#define CHILD_EOF_GRACE_MS 300

struct child {
	TAILQ_ENTRY(child) entry;
	struct agent *a;
	pid_t pid;
	int fd;
	struct event *ev_read, *ev_timer, *ev_finish;
	struct evbuffer *out;
	int exited, eof, finishing, status, timed_out, truncated, spawn_failed;
	struct timespec start;
	char **secrets;
	char *command;
	child_done_fn done;
	void *arg;
};

struct children {
	TAILQ_HEAD(, child) list;
	struct event *sigchld;
};

extern char **environ;

static double
elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (now.tv_nsec - since->tv_nsec) / 1e9;
}

static int
is_secret(char **secrets, const char *s)
{
	for (size_t i = 0; secrets && secrets[i]; i++)
		if (strcmp(secrets[i], s) == 0)
			return 1;
	return 0;
}

/* "name arg 'arg with space'" with secret arguments redacted. */
static char *
command_line(const char *const *argv, char **secrets)
{
	struct evbuffer *b = evbuffer_new();
	char *s = NULL;
	size_t n;

	if (b == NULL)
		return NULL;
	for (size_t i = 0; argv[i]; i++) {
		const char *arg = is_secret(secrets, argv[i]) ? "[redacted]" : argv[i];
		if (i > 0)
			evbuffer_add(b, " ", 1);
		if (*arg == '\0' || strpbrk(arg, " \t\"'\\;$") != NULL) {
			evbuffer_add(b, "'", 1);
			for (const char *p = arg; *p; p++) {
				if (*p == '\'')
					evbuffer_add(b, "'\\''", 4);
				else
					evbuffer_add(b, p, 1);
			}
			evbuffer_add(b, "'", 1);
		} else {
			evbuffer_add(b, arg, strlen(arg));
		}
	}
	n = evbuffer_get_length(b);
	if ((s = malloc(n + 1)) != NULL) {
		evbuffer_remove(b, s, n);
		s[n] = '\0';
	}
	evbuffer_free(b);
	return s;
}

/* Replaces every occurrence of each secret in s (malloc'd) by "[redacted]". */
static char *
scrub(char *s, char **secrets)
{
	for (size_t i = 0; secrets && secrets[i]; i++) {
		const char *sec = secrets[i];
		size_t sl = strlen(sec);
		char *hit;
		if (sl == 0)
			continue;
		while ((hit = strstr(s, sec)) != NULL) {
			size_t pre = (size_t)(hit - s), rest = strlen(hit + sl);
			char *t = malloc(pre + 10 + rest + 1);
			if (t == NULL) {
				/* Cannot scrub: withhold the whole output rather than leak. */
				s[0] = '\0';
				return s;
			}
			memcpy(t, s, pre);
			memcpy(t + pre, "[redacted]", 10);
			memcpy(t + pre + 10, hit + sl, rest + 1);
			free(s);
			s = t;
		}
	}
	return s;
}

static void
child_free(struct child *c)
{
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_timer)
		event_free(c->ev_timer);
	if (c->ev_finish)
		event_free(c->ev_finish);
	if (c->fd >= 0)
		close(c->fd);
	if (c->out)
		evbuffer_free(c->out);
	for (size_t i = 0; c->secrets && c->secrets[i]; i++) {
		explicit_bzero(c->secrets[i], strlen(c->secrets[i]));
		free(c->secrets[i]);
	}
	free(c->secrets);
	free(c->command);
	free(c);
}

static void
finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	struct child_result *r = calloc(1, sizeof(*r));
	size_t n = evbuffer_get_length(c->out);

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&c->a->children->list, c, entry);
	if (r == NULL || (r->output = malloc(n + 1)) == NULL) {
		log_error("child", "out of memory delivering a result", "command", c->command,
		          NULL);
		free(r);
		r = NULL;
	} else {
		evbuffer_remove(c->out, r->output, n);
		r->output[n] = '\0';
		r->output = scrub(r->output, c->secrets);
		r->len = strlen(r->output);
		r->command = c->command;
		c->command = NULL;
		r->timed_out = c->timed_out;
		r->truncated = c->truncated;
		r->spawn_failed = c->spawn_failed;
		r->seconds = elapsed(&c->start);
		if (c->spawn_failed) {
			r->exit_code = 127;
		} else if (WIFEXITED(c->status)) {
			r->exit_code = WEXITSTATUS(c->status);
		} else {
			r->exit_code = -1;
			r->signal = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0;
		}
		char how[96];
		log_debug("child", "utility ended", "command", r->command, "result",
		          child_describe(r, how, sizeof(how)), "seconds", LOG_D(r->seconds), NULL);
	}
	child_done_fn done = c->done;
	void *darg = c->arg;
	child_free(c);
	if (r != NULL)
		done(r, darg);
}

/* Delivers the result from a fresh loop iteration once the child exited and its output
 * ended (or the grace period after its exit passed). */
static void
maybe_finish(struct child *c)
{
	if (c->finishing || !c->exited)
		return;
	if (!c->eof) {
		struct timeval grace = {0, CHILD_EOF_GRACE_MS * 1000};
		/* The timer doubles as the grace timer once the child has exited. */
		evtimer_add(c->ev_timer, &grace);
		return;
	}
	c->finishing = 1;
	evtimer_del(c->ev_timer);
	event_active(c->ev_finish, EV_TIMEOUT, 1);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	char buf[4096];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		size_t have = evbuffer_get_length(c->out), keep = (size_t)n;
		if (have + keep > AGENT_MAX_OUTPUT) {
			keep = have < AGENT_MAX_OUTPUT ? AGENT_MAX_OUTPUT - have : 0;
			c->truncated = 1;
		}
		evbuffer_add(c->out, buf, keep);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	c->eof = 1;
	event_del(c->ev_read);
	maybe_finish(c);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd;
	(void)what;
	if (c->exited) { /* the grace period after exit is over */
		c->eof = 1;
		event_del(c->ev_read);
		maybe_finish(c);
		return;
	}
	log_warn("child", "utility ran past its time limit; killing it", "command", c->command,
	         "pid", LOG_I(c->pid), NULL);
	c->timed_out = 1;
	kill(c->pid, SIGKILL);
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;
	int status;
	pid_t pid;

	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c;
		TAILQ_FOREACH(c, &a->children->list, entry)
		if (c->pid == pid && !c->exited) {
			c->exited = 1;
			c->status = status;
			maybe_finish(c);
			break;
		}
	}
}

/* In the child after fork: only async-signal-safe calls. */
static void
exec_child(const char *exe, const char *const *argv, int out_fd, int in_fd)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	dup2(in_fd, 0);
	dup2(out_fd, 1);
	dup2(out_fd, 2);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	execve(exe, (char *const *)argv, environ);
	static const char msg[] = "cannot run the utility: exec failed\n";
	ssize_t w = write(1, msg, sizeof(msg) - 1);
	(void)w;
	_exit(127);
}

/*
 * The standard input of a utility: /dev/null, or the read end of a pipe already holding
 * input (what a utility prompts for, so that no secret is ever in an argument vector,
 * which every process of the pod can read in /proc). The input is written whole before
 * the fork: it is far smaller than a pipe's capacity, so the write cannot block.
 */
static int
input_fd(const char *input)
{
	int fd[2];
	size_t len = input ? strlen(input) : 0;

	if (input == NULL)
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (len > PIPE_BUF) {
		errno = E2BIG;
		return -1;
	}
	if (pipe2(fd, O_CLOEXEC) < 0)
		return -1;
	if (write(fd[1], input, len) != (ssize_t)len) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	close(fd[1]);
	return fd[0];
}

struct child *
child_run(struct agent *a, const char *exe, const char *const *argv, const char *const *secrets,
          const char *input, long long timeout_ms, child_done_fn done, void *arg)
{
	struct child *c = calloc(1, sizeof(*c));
	int pfd[2] = {-1, -1}, in_fd = -1;
	size_t ns = 0;

	if (c == NULL)
		return NULL;
	c->a = a;
	c->fd = -1;
	c->done = done;
	c->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	while (secrets && secrets[ns])
		ns++;
	if ((c->secrets = calloc(ns + 1, sizeof(char *))) == NULL)
		goto fail;
	for (size_t i = 0; i < ns; i++)
		if ((c->secrets[i] = strdup(secrets[i])) == NULL)
			goto fail;
	if ((c->command = command_line(argv, c->secrets)) == NULL ||
	    (c->out = evbuffer_new()) == NULL ||
	    (c->ev_finish = event_new(a->base, -1, 0, finish_cb, c)) == NULL ||
	    (c->ev_timer = evtimer_new(a->base, timer_cb, c)) == NULL)
		goto fail;
	TAILQ_INSERT_TAIL(&a->children->list, c, entry);
	log_debug("child", "running utility", "command", c->command, NULL);

	if (access(exe, X_OK) != 0) {
		evbuffer_add_printf(c->out, "cannot run %s: %s\n", exe, strerror(errno));
		c->spawn_failed = c->exited = c->eof = 1;
		maybe_finish(c);
		return c;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0 || (in_fd = input_fd(input)) < 0)
		goto spawn_error;
	c->pid = fork();
	if (c->pid < 0)
		goto spawn_error;
	if (c->pid == 0)
		exec_child(exe, argv, pfd[1], in_fd);
	close(pfd[1]);
	close(in_fd);
	c->fd = pfd[0];
	evutil_make_socket_nonblocking(c->fd);
	if ((c->ev_read = event_new(a->base, c->fd, EV_READ | EV_PERSIST, read_cb, c)) == NULL ||
	    event_add(c->ev_read, NULL) < 0) {
		/* Cannot read it: stop it; SIGCHLD still delivers the result. */
		c->eof = 1;
		kill(c->pid, SIGKILL);
	}
	if (timeout_ms > 0) {
		struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
		evtimer_add(c->ev_timer, &tv);
	}
	return c;

spawn_error:
	evbuffer_add_printf(c->out, "cannot start %s: %s\n", exe, strerror(errno));
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	if (in_fd >= 0)
		close(in_fd);
	c->spawn_failed = c->exited = c->eof = 1;
	maybe_finish(c);
	return c;
fail:
	log_error("child", "out of memory starting a utility", NULL);
	child_free(c); /* not yet in the list */
	return NULL;
}

void
child_cancel(struct child *c)
{
	if (c == NULL)
		return;
	if (!c->exited && c->pid > 0) {
		kill(c->pid, SIGKILL);
		/* Reaped by the next SIGCHLD, which finds no child and ignores it. */
	}
	TAILQ_REMOVE(&c->a->children->list, c, entry);
	child_free(c);
}

void
child_result_free(struct child_result *r)
{
	if (r == NULL)
		return;
	free(r->command);
	free(r->output);
	free(r);
}

const char *
child_describe(const struct child_result *r, char *buf, size_t n)
{
	if (r->spawn_failed)
		snprintf(buf, n, "could not be started");
	else if (r->timed_out)
		snprintf(buf, n, "was killed after running past its time limit (%.1f s)",
		         r->seconds);
	else if (r->signal)
		snprintf(buf, n, "was killed by signal %d", r->signal);
	else
		snprintf(buf, n, "exited with %d", r->exit_code);
	return buf;
}

int
child_init(struct agent *a)
{
	if ((a->children = calloc(1, sizeof(*a->children))) == NULL)
		return -1;
	TAILQ_INIT(&a->children->list);
	a->children->sigchld = evsignal_new(a->base, SIGCHLD, sigchld_cb, a);
	if (a->children->sigchld == NULL || evsignal_add(a->children->sigchld, NULL) < 0) {
		log_error("child", "cannot handle SIGCHLD", NULL);
		return -1;
	}
	return 0;
}

void
child_shutdown(struct agent *a)
{
	struct child *c;

	if (a->children == NULL)
		return;
	while ((c = TAILQ_FIRST(&a->children->list)) != NULL)
		child_cancel(c);
	if (a->children->sigchld)
		event_free(a->children->sigchld);
	free(a->children);
	a->children = NULL;
}
