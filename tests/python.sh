# shellcheck shell=bash
# Sourced by the suites (tests/run.sh, tests/e2e/lib.sh, tests/chaos/lib.sh)
# and bench/run.sh: python3 is the system's (.ci/deps installs Debian's),
# not a version manager's shim found before it on PATH. A shim costs a
# shell and an exec per call (over a second each on a loaded machine),
# and the suites call python3 thousands of times; the helpers need its
# standard library only.
if [ -x /usr/bin/python3 ] &&
    [ "$(command -v python3 2>/dev/null)" != /usr/bin/python3 ]; then
	_hp_py=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/python
	if mkdir -p "$_hp_py" && ln -sfn /usr/bin/python3 "$_hp_py/python3"
	then
		PATH=$_hp_py:$PATH
		export PATH
	fi
	unset _hp_py
fi
