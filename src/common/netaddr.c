/*
 * Listen addresses (see ttc/netaddr.h): parsing without name resolution, formatting,
 * and non-blocking listening sockets.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttc/netaddr.h"

int
netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *port;
	char *end;
	long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "\"%s\" is not [IPv6]:PORT", s);
			return -1;
		}
		colon = close + 1;
		if ((size_t)(close - s - 1) >= sizeof(host)) {
			snprintf(err, errlen, "\"%s\": address too long", s);
			return -1;
		}
		memcpy(host, s + 1, close - s - 1);
		host[close - s - 1] = '\0';
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host)) {
			snprintf(err, errlen, "\"%s\" is not HOST:PORT", s);
			return -1;
		}
		memcpy(host, s, colon - s);
		host[colon - s] = '\0';
	}
	port = colon + 1;
	errno = 0;
	p = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535) {
		snprintf(err, errlen, "\"%s\": port must be a number from 0 to 65535", s);
		return -1;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "\"%s\" is not an IPv6 address", host);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*sin6);
		return 0;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	if (host[0] == '\0') {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		snprintf(err, errlen, "\"%s\" is not an IP address (names are not resolved here)",
		         host);
		return -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)p);
	*len = sizeof(*sin);
	return 0;
}

const char *
netaddr_format(const struct sockaddr *sa, char *buf, size_t n)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, n, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, n, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		snprintf(buf, n, "(family %d)", sa->sa_family);
	}
	return buf;
}

int
netaddr_listen(const char *s, int backlog, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (netaddr_parse(s, &ss, &len, err, errlen) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", s, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
