/* kubesim's source-address shim, preloaded into every container process (LD_PRELOAD).
 *
 * All pods share the machine's loopback, where a socket that is not bound gets 127.0.0.1 as its source:
 * nothing would tell which pod (and so which node) a connection comes from.  A pod of a real cluster has its
 * own address as the source of everything it sends.  This shim gives it that: connect() of an unbound AF_INET
 * socket to a 127/8 address first binds the socket to $KUBESIM_SOURCE_IP (port 0).  Any other socket, family
 * or destination is left alone, and a failed bind leaves the connect as it would have been. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static in_addr_t source;
static volatile int ready;

static void init(void)
{
	const char *s = getenv("KUBESIM_SOURCE_IP");
	struct in_addr a;

	if (s && inet_pton(AF_INET, s, &a) == 1)
		source = a.s_addr;
	real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	ready = 1;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (!ready)
		init();
	if (source && addr && len >= (socklen_t)sizeof(struct sockaddr_in) && addr->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr) >> 24) == 127) {
		struct sockaddr_in me;
		socklen_t ml = sizeof me;
		int saved = errno;

		memset(&me, 0, sizeof me);
		if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0 && me.sin_family == AF_INET &&
		    me.sin_port == 0 && me.sin_addr.s_addr == htonl(INADDR_ANY)) {
			struct sockaddr_in b;

			memset(&b, 0, sizeof b);
			b.sin_family = AF_INET;
			b.sin_addr.s_addr = source;
			(void)bind(fd, (struct sockaddr *)&b, sizeof b);
		}
		errno = saved;
	}
	if (real_connect)
		return real_connect(fd, addr, len);
	return (int)syscall(SYS_connect, fd, addr, len);
}
