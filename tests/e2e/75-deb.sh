#!/usr/bin/env bash
# lane: side
# make deb: a Debian package that installs the stages in
# /usr/libexec/hookpipe, the commands in /usr/bin, the definitions, man
# pages and completion in /usr/share, and systemd units that run the
# stages as the user hookpipe in /var/lib/hookpipe. Its postinst creates
# that user and directory and enables and starts hookpipe.target (run
# here under DPKG_ROOT with stand-ins for useradd and systemctl: nothing
# is installed on this machine).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

for c in dpkg-deb dpkg-shlibdeps; do
	if ! command -v "$c" >/dev/null; then
		skip "make deb" "$c is not installed"
		finish
	fi
done

if ! make -s -C "$ROOT" deb >"$T_DIR/make.out" 2>&1; then
	not_ok "make deb" "$(tail -n 5 "$T_DIR/make.out")"
	finish
fi
deb=$(ls -t "$ROOT"/build-deb/hookpipe_*.deb 2>/dev/null | head -n 1)
check "make deb builds build-deb/hookpipe_VERSION_ARCH.deb" test -s "$deb"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' |
    sort >"$T_DIR/files"
for f in /usr/bin/hookpipe /usr/bin/hookpipectl \
    /usr/libexec/hookpipe/hookpipe-receiver \
    /usr/libexec/hookpipe/hookpipe-verifier \
    /usr/libexec/hookpipe/hookpipe-router \
    /usr/libexec/hookpipe/hookpipe-dispatcher \
    /usr/libexec/hookpipe/hookpipe-jq \
    /usr/share/hookpipe/integrations/openai.json \
    /usr/share/hookpipe/integrations/stripe.json \
    /usr/share/hookpipe/examples/openai-batch.completed.json \
    /usr/share/man/man1/hookpipe.1 /usr/share/man/man5/hookpipe.env.5 \
    /usr/share/man/man8/hookpipectl.8 \
    /usr/share/bash-completion/completions/hookpipe \
    /usr/share/bash-completion/completions/hookpipectl \
    /usr/share/zsh/vendor-completions/_hookpipe \
    /usr/share/doc/hookpipe/README.md \
    /lib/systemd/system/hookpipe.target \
    /lib/systemd/system/hookpipe-receiver.socket \
    /lib/systemd/system/hookpipe-receiver.service \
    /lib/systemd/system/hookpipe-verifier.service \
    /lib/systemd/system/hookpipe-router.service \
    /lib/systemd/system/hookpipe-dispatcher.service; do
	check "dpkg -c lists $f" grep -qx "$f" "$T_DIR/files"
done
assert_eq "no stage in /usr/bin" "" \
    "$(grep -E '^/usr/bin/hookpipe-' "$T_DIR/files")"
assert_eq "nothing outside /usr and /lib/systemd" "" \
    "$(grep -vE '^(/?$|/usr(/|$)|/lib(/systemd(/system)?)?(/|$))' "$T_DIR/files")"
assert_eq "every file owned by root" "" \
    "$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')"

dpkg-deb -f "$deb" Package Architecture Depends >"$T_DIR/control"
assert_contains "Package: hookpipe" "Package: hookpipe" "$(cat "$T_DIR/control")"
assert_contains "it depends on the libraries it links" "libzmq5" \
    "$(cat "$T_DIR/control")"
assert_contains "and on liblmdb" "liblmdb0" "$(cat "$T_DIR/control")"

X=$T_DIR/x
dpkg-deb -R "$deb" "$X"
for s in dispatcher router verifier receiver; do
	f=$X/lib/systemd/system/hookpipe-$s.service
	check "$s runs as the user hookpipe" grep -qx 'User=hookpipe' "$f"
	check "$s: ExecStart in /usr/libexec/hookpipe" \
	    grep -qx "ExecStart=/usr/libexec/hookpipe/hookpipe-$s" "$f"
	check "$s: in /var/lib/hookpipe" \
	    grep -qx 'Environment=HOOKPIPE_HOME=/var/lib/hookpipe' "$f"
done
if command -v systemd-analyze >/dev/null; then
	# ExecStart must exist for verify: the unpacked tree's, by path.
	mkdir -p "$T_DIR/units"
	for f in "$X"/lib/systemd/system/*; do
		sed "s|^ExecStart=/usr|ExecStart=$X/usr|" "$f" \
		    >"$T_DIR/units/$(basename "$f")"
	done
	systemd-analyze verify --man=no "$T_DIR/units"/* >"$T_DIR/verify" 2>&1
	assert_eq "the packaged units pass systemd-analyze verify" "0 " \
	    "$? $(cat "$T_DIR/verify")"
fi
check "the packaged CLI runs" sh -c "'$X/usr/bin/hookpipe' --help >/dev/null"

# postinst configure, under DPKG_ROOT, with stand-ins that log.
R=$T_DIR/droot
STUB=$T_DIR/stub
mkdir -p "$R/run/systemd/system" "$R/var/lib" "$STUB"
cat >"$STUB/getent" <<'EOF'
#!/bin/sh
exit 2
EOF
for c in useradd systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n' "$c" >"$STUB/$c"
done
# install as root would give the files to hookpipe: here, to us.
cat >"$STUB/install" <<'EOF'
#!/bin/sh
echo "install $*" >>"$STUB_LOG"
a=
while [ $# -gt 0 ]; do
	case $1 in
	-o|-g) shift ;;
	*) a="$a $1" ;;
	esac
	shift
done
exec /usr/bin/install $a
EOF
chmod +x "$STUB"/*
DPKG_ROOT=$R STUB_LOG=$T_DIR/calls PATH=$STUB:$PATH \
    sh "$X/DEBIAN/postinst" configure "" >"$T_DIR/postinst.out" 2>&1
assert_eq "postinst configure exits 0" 0 "$?"
calls=$(cat "$T_DIR/calls")
assert_contains "it creates a system user hookpipe" \
    "--system --user-group --home-dir /var/lib/hookpipe" "$calls"
check "its home, mode 700, given to hookpipe" \
    grep -q "install -d -m 0700 -o hookpipe -g hookpipe $R/var/lib/hookpipe" "$T_DIR/calls"
check "the directory is there" test -d "$R/var/lib/hookpipe"
check "with a hookpipe.env" grep -q '^TRIGGER_URL=' "$R/var/lib/hookpipe/hookpipe.env"
assert_contains "it enables the units" \
    "systemctl enable hookpipe.target hookpipe-receiver.socket" "$calls"
assert_contains "and starts hookpipe.target" "systemctl start hookpipe.target" \
    "$calls"
echo 'TRIGGER_URL=https://mine' >"$R/var/lib/hookpipe/hookpipe.env"
DPKG_ROOT=$R STUB_LOG=$T_DIR/calls2 PATH=$STUB:$PATH \
    sh "$X/DEBIAN/postinst" configure 0.1 >/dev/null 2>&1
assert_eq "an upgrade keeps the settings" 'TRIGGER_URL=https://mine' \
    "$(cat "$R/var/lib/hookpipe/hookpipe.env")"
assert_contains "and restarts the running stages" "systemctl try-restart" \
    "$(cat "$T_DIR/calls2")"
DPKG_ROOT=$R STUB_LOG=$T_DIR/calls3 PATH=$STUB:$PATH \
    sh "$X/DEBIAN/prerm" remove >/dev/null 2>&1
assert_contains "prerm stops the receiver first" \
    "systemctl stop hookpipe-receiver.socket hookpipe-receiver.service" \
    "$(head -n 1 "$T_DIR/calls3")"

finish
