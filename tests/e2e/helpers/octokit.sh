# shellcheck shell=bash
# GitHub's own example deliveries, from the @octokit/webhooks-examples npm
# package, unpacked once into a cache beside the tests.
OCTOKIT_VERSION=7.6.1
OCTOKIT_DIR=${HOOKPIPE_TEST_CACHE:-$ROOT/tests/.cache}/octokit-$OCTOKIT_VERSION

octokit_index() {
	local f=$OCTOKIT_DIR/package/api.github.com/index.json
	if [ ! -f "$f" ]; then
		command -v npm >/dev/null 2>&1 || return 1
		mkdir -p "$OCTOKIT_DIR" || return 1
		(cd "$OCTOKIT_DIR" &&
		    npm pack --silent "@octokit/webhooks-examples@$OCTOKIT_VERSION" \
		    >/dev/null 2>&1 &&
		    tar xzf octokit-webhooks-examples-$OCTOKIT_VERSION.tgz) ||
		    return 1
	fi
	echo "$f"
}

# octokit_example INDEX EVENT N OUTFILE: the Nth example of EVENT.
octokit_example() {
	python3 - "$1" "$2" "$3" "$4" <<'PY'
import json, sys
idx, event, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for e in json.load(open(idx)):
    if e["name"] == event:
        with open(out, "w") as f:
            json.dump(e["examples"][n], f)
        sys.exit(0)
sys.exit(1)
PY
}
