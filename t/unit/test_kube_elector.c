/* Tests for the lease decision in src/kube/elector.c: when to create, take over, renew. */
#include "config.h"

#include "kube/internal.h"
#include "tap.h"

int
main(void)
{
	struct kube_lease_view v = {0};

	is_int(kube_lease_decide(&v, "me", 100), KUBE_LEASE_CREATE, "no lease: create it");
	v.exists = 1;
	v.holder = "me";
	v.duration_s = 15;
	v.observed_at = 0;
	is_int(kube_lease_decide(&v, "me", 100), KUBE_LEASE_RENEW, "ours: renew, even if old");
	v.holder = "";
	v.observed_at = 99;
	is_int(kube_lease_decide(&v, "me", 100), KUBE_LEASE_ACQUIRE, "released: take it at once");
	v.holder = "other";
	v.observed_at = 90;
	is_int(kube_lease_decide(&v, "me", 100), KUBE_LEASE_WAIT,
	       "held and seen changing 10 s ago: wait");
	is_int(kube_lease_decide(&v, "me", 104.9), KUBE_LEASE_WAIT, "just before the duration");
	is_int(kube_lease_decide(&v, "me", 105), KUBE_LEASE_ACQUIRE,
	       "unchanged for the lease duration by our clock: take over");
	v.duration_s = 0;
	is_int(kube_lease_decide(&v, "me", 90), KUBE_LEASE_ACQUIRE,
	       "a lease without duration is expired");
	return done_testing();
}
