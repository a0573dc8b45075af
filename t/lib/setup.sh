# Setting up a Debian bookworm machine for ttclassic: the packages the build, the tests,
# the fuzz harnesses (clang, and libFuzzer's runtime in libclang-rt-14-dev) and the demo
# need (kubectl is expected on the machine already). Sourced by t/check and
# t/demo.

SETUP_PACKAGES="gcc make autoconf automake pkgconf libevent-dev libevhtp-dev libonig-dev
	libssl-dev libyajl-dev libyaml-dev openssl curl prometheus python3 python3-kubernetes
	python3-websocket python3-yaml iproute2 unzip procps clang libclang-rt-14-dev"

say() { printf '\n== %s\n' "$*"; }

# Installs what is missing of SETUP_PACKAGES; 0 or 1.
setup_packages() {
	local missing="" p sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	# Packages left unpacked but unconfigured are finished first.
	if [ -n "$($sudo dpkg --audit 2>/dev/null)" ]; then
		$sudo env DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null 2>&1 || true
	fi
	for p in $SETUP_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing Debian packages:$missing"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing >/dev/null
}
