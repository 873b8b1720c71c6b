#!/usr/bin/env bash
# lane: side
# make install: the CLI and hookpipectl in bin, the stages and the jq
# worker in libexec/hookpipe, the definitions and examples in
# share/hookpipe, the man pages hookpipe(1), hookpipe.env(5) and
# hookpipectl(8), bash and zsh completion. The installed tree runs: its
# hookpipectl starts the stages from libexec, and a delivery runs a
# workflow whose trigger has a jq filter.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

D=$T_DIR/root
# The PREFIX the tree was built with (make's default): another would
# rebuild bin/ under the other scripts' feet; the staged tree finds its
# parts relative to itself anyway.
P=$D/usr/local
args=()
# A sanitized build (HOOKPIPE_BIN=build-san/bin) installs itself.
[ "$BIN" != "$ROOT/bin" ] && args=(B="$(dirname "$BIN")" BIN="$BIN")
if ! make -s -C "$ROOT" install DESTDIR="$D" "${args[@]}" \
    >"$T_DIR/make.out" 2>&1; then
	not_ok "make install" "$(tail -n 5 "$T_DIR/make.out")"
	finish
fi
ok "make install DESTDIR=..."

for f in bin/hookpipe bin/hookpipectl libexec/hookpipe/hookpipe-receiver \
    libexec/hookpipe/hookpipe-verifier libexec/hookpipe/hookpipe-router \
    libexec/hookpipe/hookpipe-dispatcher libexec/hookpipe/hookpipe-jq; do
	check "$f is an executable" test -x "$P/$f"
done
check "no stage in bin" test ! -e "$P/bin/hookpipe-receiver"
check "the integrations" test -s "$P/share/hookpipe/integrations/openai.json"
check "the examples" \
    test -s "$P/share/hookpipe/examples/openai-batch.completed.json"
for m in man1/hookpipe.1 man5/hookpipe.env.5 man8/hookpipectl.8; do
	check "man page $m" test -s "$P/share/man/$m"
	if command -v mandoc >/dev/null; then
		check "$m: mandoc -T lint finds nothing" \
		    test -z "$(mandoc -T lint -W warning "$P/share/man/$m" 2>&1)"
	fi
done
check "hookpipectl(8) documents gen" \
    sh -c "MANWIDTH=80 man -l '$P/share/man/man8/hookpipectl.8' 2>/dev/null | grep -q 'gen systemd'"
check "bash completion for hookpipe" \
    test -s "$P/share/bash-completion/completions/hookpipe"
check "and for hookpipectl" \
    test -e "$P/share/bash-completion/completions/hookpipectl"
check "zsh completion" test -s "$P/share/zsh/site-functions/_hookpipe"

# The completion completes.
got=$(bash -c '. "$1"
COMP_WORDS=(hookpipectl gen s); COMP_CWORD=2; _hookpipectl
echo "${COMPREPLY[*]}"
COMP_WORDS=(hookpipe work); COMP_CWORD=1; _hookpipe
echo "${COMPREPLY[*]}"
COMP_WORDS=(hookpipe sub ed); COMP_CWORD=2; _hookpipe
echo "${COMPREPLY[*]}"' sh "$P/share/bash-completion/completions/hookpipe")
assert_eq "bash completes gen s, work, sub ed" "$(printf 'systemd s6\nworkflow\nedit')" \
    "$got"
if command -v zsh >/dev/null; then
	check "the zsh completion parses" zsh -n "$P/share/zsh/site-functions/_hookpipe"
fi

# The installed tree runs.
check "hookpipectl --help names gen" \
    sh -c "'$P/bin/hookpipectl' --help | grep -q 'gen systemd'"
out=$("$P/bin/hookpipectl" start 2>&1)
check "the installed hookpipectl starts the stages" test $? = 0
exe=$(readlink "/proc/$(cat "$HOOKPIPE_HOME/run/router.pid")/exe")
assert_eq "from libexec/hookpipe" "$P/libexec/hookpipe/hookpipe-router" "$exe"
out=$("$P/bin/hookpipe" integration list 2>&1)
assert_contains "the installed CLI finds the shipped integrations" openai "$out"
new_sub inst
"$P/bin/hookpipe" workflow create instwf --exec "$(recorder "$T_DIR/rec")" \
    >/dev/null &&
    "$P/bin/hookpipe" workflow trigger instwf --sub inst \
    --event batch.completed --filter '.data.id | startswith("batch_")' \
    >/dev/null &&
    "$P/bin/hookpipe" workflow publish instwf >/dev/null
check "a workflow with a filter is set up" test $? = 0
deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed)"
assert_status "a delivery to the installed stack" 200
ran() { [ "$(runs_in "$T_DIR/rec")" = 1 ]; }
check "its workflow runs (the router's jq worker is found)" wait_for 20 ran
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
out=$("$P/bin/hookpipe" replay "$ev" --workflow instwf --force 2>&1)
rc=$?
assert_not_contains "the installed CLI finds hookpipe-jq in libexec" \
    "cannot find hookpipe-jq" "$out"
assert_eq "and replays through the filter" 0 "$rc"
"$P/bin/hookpipectl" stop >/dev/null 2>&1

finish
