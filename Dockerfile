# The operator image, built from the ttclassic release tarball (make dist). The build context
# is the directory holding the tarball and this file, for example:
#   make dist && cp ttclassic-0.1.0.tar.gz Dockerfile /tmp/ctx/
#   docker build -t registry.example.com/youraccount/ttclassic-operator:0.1.0 /tmp/ctx
#   docker push registry.example.com/youraccount/ttclassic-operator:0.1.0
# The image holds the operator, the libraries it links beyond glibc and OpenSSL, and
# nothing else: no shell, no package manager. It runs as an unprivileged user (65532),
# as k8s/operator.yaml's restricted security context requires.

FROM debian:bookworm-slim AS build
ARG TTCLASSIC=ttclassic-0.1.0.tar.gz
RUN apt-get update && apt-get install -y --no-install-recommends \
	ca-certificates gcc libc6-dev make pkgconf libevent-dev libevhtp-dev libonig-dev \
	libssl-dev libyajl-dev libyaml-dev
COPY $TTCLASSIC /src/
RUN cd /src && tar xf "$TTCLASSIC" && cd ttclassic-*/ && \
	./configure --prefix=/usr && make && make install-strip DESTDIR=/stage && \
	build-aux/image-libs /stage/usr/bin/timestenclassic-operator /stage

# distroless base: glibc, OpenSSL 3, CA certificates and a nonroot user
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /stage/usr/bin/timestenclassic-operator /usr/bin/
COPY --from=build /stage/usr/lib/ /usr/lib/
USER 65532:65532
# /metrics, /healthz and /readyz
EXPOSE 8080
ENTRYPOINT ["/usr/bin/timestenclassic-operator"]
