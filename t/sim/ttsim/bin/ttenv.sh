# TimesTen installation environment (simulated): puts this installation's
# utilities on PATH.  An instance's own bin/ttenv.sh also sets TIMESTEN_HOME.
# Source it: . <installation>/bin/ttenv.sh
if [ -n "${BASH_SOURCE:-}" ]; then
  _tt_bin=$(cd "$(dirname "${BASH_SOURCE}")" && pwd)
else
  _tt_bin=$(cd "$(dirname "$0")" && pwd)
fi
case ":${PATH}:" in
  *":${_tt_bin}:"*) ;;
  *) PATH="${_tt_bin}:${PATH}" ;;
esac
export PATH
echo "PATH set to ${PATH}"
unset _tt_bin
