# shellcheck shell=bash
# Sourced by the suites (tests/run.sh, tests/e2e/lib.sh, tests/chaos/lib.sh)
# and bench/run.sh: python3 is the system's (.ci/deps installs Debian's),
# not a version manager's shim found before it on PATH. A shim costs a
# shell and an exec per call (over a second each on a loaded machine),
# and the suites call python3 thousands of times; the helpers need its
# standard library only. The link is made once and never replaced: the
# suites run side by side, and a script may be starting python3 through
# it at any moment.
_hp_py=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/python
case $(command -v python3 2>/dev/null) in
/usr/bin/python3 | "$_hp_py/python3") ;;
*)
	if [ -x /usr/bin/python3 ] && mkdir -p "$_hp_py" &&
	    { [ -L "$_hp_py/python3" ] ||
	    ln -s /usr/bin/python3 "$_hp_py/python3" 2>/dev/null ||
	    [ -L "$_hp_py/python3" ]; }; then
		PATH=$_hp_py:$PATH
		export PATH
	fi
	;;
esac
unset _hp_py
