/*
 * Listen addresses: "HOST:PORT" where HOST is an IPv4 or bracketed IPv6 literal, or
 * empty for every interface. Names are refused: resolving one would block the loop.
 */
#ifndef TTC_NETADDR_H
#define TTC_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

int netaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
                  size_t errlen);
/* "127.0.0.1:8080" or "[::1]:8080" for a socket address. */
const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t n);
/* A non-blocking listening TCP socket bound to s; -1 with err on failure. */
int netaddr_listen(const char *s, int backlog, char *err, size_t errlen);

#endif
