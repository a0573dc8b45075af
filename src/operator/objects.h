/*
 * The Kubernetes objects the operator makes for a TimesTenClassic: the Secret holding the
 * agent certificates, the headless Service and the StatefulSet, as JSON bodies.
 */
#ifndef OBJECTS_H
#define OBJECTS_H

#include <yajl/yajl_tree.h>

struct ttc_spec;

#define TTC_GROUP "timesten.oracle.com"
#define TTC_VERSION "v3"
#define TTC_API_VERSION TTC_GROUP "/" TTC_VERSION
#define TTC_KIND "TimesTenClassic"
#define TTC_PLURAL "timestenclassics"

/* Every object made for a TimesTenClassic, and its pods, carry this label with the
 * object's name: the operator watches only what carries it. */
#define OBJECT_LABEL "timesten.oracle.com/object"
/* On the StatefulSet: the generation of the TimesTenClassic spec it was last made from. */
#define GENERATION_ANNOTATION "timesten.oracle.com/spec-generation"

/* Where TimesTen lives in the image and in the pod. */
#define TT_IMAGE_ENTRYPOINT "/home/timesten/starthost"
#define TT_IMAGE_DAEMONLOG "/home/timesten/ttdaemonlog"
#define TT_INSTANCE_HOME "/tt/home/timesten/instances/instance1"
/* The image's timesten user and group (ttimage/Dockerfile). */
#define TT_IMAGE_UID 333
#define TT_IMAGE_GID 333
#define TT_AGENT_PORT 8443
#define TT_DAEMON_PORT 6624
#define TT_SERVER_PORT 6625

/* The object the made ones belong to. */
struct owner {
	const char *name;
	const char *ns;
	const char *uid;
	yajl_val labels;      /* the object's metadata.labels (may be NULL) */
	yajl_val annotations; /* the object's metadata.annotations (may be NULL) */
};

/* Credentials for the agents (server) and the operator (client), PEM. */
struct agent_credentials {
	const char *ca_cert;
	const char *ca_key;
	const char *server_cert;
	const char *server_key;
	const char *client_cert;
	const char *client_key;
};

/* Keys of the Secret; the first three are mounted in the pods at /ttagent. */
#define SECRET_CA_CERT "ca.crt"
#define SECRET_SERVER_CERT "tls.crt"
#define SECRET_SERVER_KEY "tls.key"
#define SECRET_CA_KEY "ca.key"
#define SECRET_CLIENT_CERT "operator.crt"
#define SECRET_CLIENT_KEY "operator.key"

/* Names: every place that names a pod or its DNS name uses these, so that the TLS server
 * name, the certificate's names and the replication scheme's hosts agree. */
/* "<name>-<ordinal>" */
void objects_pod_name(char *buf, size_t n, const char *name, int ordinal);
/* The cluster's DNS domain ("cluster.local" unless set), which the names below end in. Set
 * once at start: the names of existing objects' certificates and schemes depend on it. */
void objects_set_cluster_domain(const char *domain);
/* The headless Service's domain, "<name>.<ns>.svc.<cluster domain>". */
void objects_service_domain(char *buf, size_t n, const char *name, const char *ns);
/* A pod's DNS name in it, "<name>-<ordinal>.<name>.<ns>.svc.<cluster domain>". */
void objects_pod_fqdn(char *buf, size_t n, const char *name, const char *ns, int ordinal);
/* The ordinal of pod "<name>-<ordinal>" of object name, or -1. */
int objects_pod_ordinal(const char *name, const char *pod);

/* "tt" + the object's uid. */
void objects_secret_name(char *buf, size_t n, const char *uid);

/*
 * A container of .spec.template.spec named like one of the operator's (tt and daemonlog in
 * containers, ttinit in initContainers) is merged into it: resources, imagePullPolicy and
 * securityContext replace the operator's, env, volumeMounts and ports are added, every
 * other field is taken as given. -1 with err set ("spec.template.spec.containers[0].image:
 * ...") when the template sets what the operator must: image, command, args, readinessProbe,
 * the operator's variables, mount paths, ports or volume names, or names one of the
 * operator's containers in the other list or twice.
 */
int objects_template_check(const struct ttc_spec *spec, char *err, size_t errlen);

/* Each returns a malloc'd JSON body, or NULL. */
char *objects_secret(const struct owner *o, const struct agent_credentials *c);
char *objects_service(const struct owner *o, const struct ttc_spec *spec);
/* The StatefulSet made from spec generation gen (kept in GENERATION_ANNOTATION). */
char *objects_statefulset(const struct owner *o, const struct ttc_spec *spec, long long gen);
/* The merge patch that brings a StatefulSet to spec generation gen: replicas, update
 * strategy and pod template (every container running the TimesTen image with it). */
char *objects_statefulset_patch(const struct owner *o, const struct ttc_spec *spec, long long gen);

#endif
