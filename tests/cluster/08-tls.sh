#!/usr/bin/env bash
# Cluster mode over TLS and with authentication, against a real
# nats-server: one server with mutual TLS (certificates made here with
# the openssl command line), one with a user and password in the URL,
# one in operator mode with a .creds file. Over each, `cluster init`,
# the stages and a signed delivery whose workflow runs; the password is
# in no log, no status and no process's arguments; and the mistakes a
# user makes (no CA, a CA that did not sign the server's certificate, a
# CA file that is not there, a certificate without its key, a wrong
# password, no credentials) each stop the CLI with a message that names
# what to fix, and the verifier with exit 100. A refused client
# certificate is told apart from a server going away by nothing but a
# guess: its message says what to check, and it stays 111.
. "$(dirname "$0")/lib.sh"

if ! command -v openssl >/dev/null 2>&1; then
	skip "openssl is not installed"
	finish
fi

# --- certificates: a CA, the server's, the client's ----------------

PKI=$T_DIR/pki
mkdir -p "$PKI"
# pki_key NAME: an EC P-256 key in NAME.key.
pki_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$PKI/$1.key" 2>/dev/null
}
# pki_ca NAME CN: a self-signed CA certificate NAME.pem.
pki_ca() {
	pki_key "$1" && openssl req -x509 -new -key "$PKI/$1.key" -days 2 \
	    -subj "/CN=$2" -addext basicConstraints=critical,CA:true \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -out "$PKI/$1.pem" 2>/dev/null
}
# pki_cert NAME CN EXTENSIONS: NAME.pem, signed by the CA ca (or $CA).
pki_cert() {
	local ca=${CA:-ca}
	pki_key "$1" && openssl req -new -key "$PKI/$1.key" -subj "/CN=$2" \
	    -out "$PKI/$1.csr" 2>/dev/null &&
	    printf '%s\n' "$3" >"$PKI/$1.ext" &&
	    openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$ca.pem" \
	    -CAkey "$PKI/$ca.key" -CAcreateserial -days 2 \
	    -extfile "$PKI/$1.ext" -out "$PKI/$1.pem" 2>/dev/null
}
if pki_ca ca "hookpipe test CA" && pki_ca other "another CA" &&
    pki_cert server localhost "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth" &&
    pki_cert client "hookpipe host" "extendedKeyUsage=clientAuth" &&
    CA=other pki_cert stranger "hookpipe host" "extendedKeyUsage=clientAuth"
then
	ok "openssl made a CA, a server and a client certificate"
else
	not_ok "openssl made a CA, a server and a client certificate"
	finish
fi

# --- the servers --------------------------------------------------

other_port TLS_PORT
other_port PW_PORT
PW=pw-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
mkdir -p "$NATS_DIR/tls" "$NATS_DIR/pw"
cat >"$NATS_DIR/tls.conf" <<EOF
listen: 127.0.0.1:$TLS_PORT
server_name: tls1
jetstream { store_dir: "$NATS_DIR/tls" }
tls {
	cert_file: "$PKI/server.pem"
	key_file: "$PKI/server.key"
	ca_file: "$PKI/ca.pem"
	verify: true
	timeout: 2
}
EOF
cat >"$NATS_DIR/pw.conf" <<EOF
listen: 127.0.0.1:$PW_PORT
server_name: pw1
jetstream { store_dir: "$NATS_DIR/pw" }
authorization { user: hookpipe, password: "$PW" }
EOF
chmod 600 "$NATS_DIR/pw.conf"
nats-server -c "$NATS_DIR/tls.conf" >>"$NATS_DIR/n1.log" 2>&1 &
NATS_PID[1]=$!
nats-server -c "$NATS_DIR/pw.conf" >>"$NATS_DIR/n2.log" 2>&1 &
NATS_PID[2]=$!

# listening PORT: a server accepts connections on PORT.
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
if ! wait_for 30 listening "$TLS_PORT" || ! wait_for 30 listening "$PW_PORT"
then
	not_ok "the NATS servers listen" "$(tail -n 5 "$NATS_DIR"/n*.log)"
	finish
fi

TLS_URL=tls://127.0.0.1:$TLS_PORT
PW_URL=nats://hookpipe:$PW@127.0.0.1:$PW_PORT
export HOOKPIPE_NATS=$TLS_URL
export HOOKPIPE_NATS_CA=$PKI/ca.pem
export HOOKPIPE_NATS_CERT=$PKI/client.pem
export HOOKPIPE_NATS_KEY=$PKI/client.key

# --- what a user gets wrong ----------------------------------------

# init_or_stop WHAT SERVER: `hookpipe cluster init --replicas 1` once
# the server answers; else the test stops with the server's last lines.
init_or_stop() {
	if wait_for 30 hookpipe cluster init --replicas 1 >/dev/null 2>&1; then
		ok "$1: cluster init --replicas 1"
	else
		not_ok "$1: cluster init --replicas 1" \
		    "$(hookpipe cluster init --replicas 1 2>&1)" \
		    "$(tail -n 5 "$NATS_DIR/$2.log")"
		finish
	fi
}

# refused NAME [VAR=VALUE...]: `hookpipe cluster init` with those
# settings exits 1 and the verifier exits 100 (or CODE, when set); sets
# OUT (the CLI's message) and VOUT (the verifier's).
refused() {
	local name=$1 rc code=${CODE:-100}
	shift
	OUT=$(env "$@" hookpipe cluster init --replicas 1 2>&1)
	rc=$?
	assert_eq "$name: cluster init exits 1" 1 "$rc"
	VOUT=$(env "$@" timeout 30 hookpipe-verifier 2>&1)
	rc=$?
	if [ "$code" = 100 ]; then
		assert_eq "$name: the verifier exits 100 (configuration)" 100 "$rc"
	else
		assert_eq "$name: the verifier exits $code (temporary)" "$code" "$rc"
	fi
}

hookpipe sub list >/dev/null 2>&1	# host A's state, for the verifier

refused "no HOOKPIPE_NATS_CA" HOOKPIPE_NATS_CA=
assert_contains "it says the server's certificate is not trusted" \
    "TLS certificate /CN=localhost is not trusted" "$OUT"
assert_contains "and to set HOOKPIPE_NATS_CA" "set HOOKPIPE_NATS_CA" "$OUT"
assert_contains "the verifier says so too" "set HOOKPIPE_NATS_CA" "$VOUT"

refused "a CA that did not sign the server's" \
    HOOKPIPE_NATS_CA="$PKI/other.pem"
assert_contains "it names the CA file" \
    "HOOKPIPE_NATS_CA=$PKI/other.pem does not hold the CA that signed it" \
    "$OUT"

refused "a CA file that is not there" HOOKPIPE_NATS_CA="$PKI/nope.pem"
assert_contains "it names the variable and the file" \
    "HOOKPIPE_NATS_CA=$PKI/nope.pem: cannot read it: No such file or directory" \
    "$OUT"

refused "HOOKPIPE_NATS_CERT without HOOKPIPE_NATS_KEY" HOOKPIPE_NATS_KEY=
assert_contains "it says they go together" \
    "HOOKPIPE_NATS_CERT and HOOKPIPE_NATS_KEY go together" "$OUT"

# With TLS 1.3 the server closes the connection after the handshake:
# that cannot be told from a server going away, so it stays temporary.
CODE=111 refused "no client certificate" HOOKPIPE_NATS_CERT= \
    HOOKPIPE_NATS_KEY=
assert_contains "it says to set a client certificate" \
    "if it verifies clients (verify: true), set HOOKPIPE_NATS_CERT and HOOKPIPE_NATS_KEY" \
    "$OUT"
CODE=111 refused "a client certificate another CA signed" \
    HOOKPIPE_NATS_CERT="$PKI/stranger.pem" HOOKPIPE_NATS_KEY="$PKI/stranger.key"
assert_contains "it names the certificate" \
    "HOOKPIPE_NATS_CERT=$PKI/stranger.pem must be signed by the CA the server trusts" \
    "$OUT"

# --- over mutual TLS -----------------------------------------------

init_or_stop "over mutual TLS" n1
out=$(hookpipe cluster status 2>&1)
assert_contains "cluster status shows the TLS connection" \
    "NATS: connected to $TLS_URL" "$out"
start_stack
ok "over mutual TLS: the stages start"
new_sub tls
RAN=$T_DIR/ran.tls
ran_workflow w "$RAN"
f=$(payload batch.completed "$T_DIR/p1.json")
deliver "$SUB_ID" "$SUB_SECRET" "$f"
assert_status "over mutual TLS: a signed delivery" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "its workflow ran" wait_for 30 grep -qx "$ev" "$RAN"
assert_eq "the event stream holds it" 1 \
    "$(hookpipe cluster status --json |
    json '[s["messages"] for s in d["streams"] if s["name"] == "HOOKPIPE_EVENTS"][0]')"
stop_stack

# --- with a user and password in the URL ---------------------------

# Host B's home, on the other server: the password server's own
# streams, configuration and state. The scratch directory is host A's:
# the cleanup stops both hosts and removes it.
HOME_A=$HOOKPIPE_HOME
trap 'HOOKPIPE_HOME=$HOME_A; cluster_cleanup' EXIT
unset HOOKPIPE_NATS_CA HOOKPIPE_NATS_CERT HOOKPIPE_NATS_KEY
export HOOKPIPE_NATS=$PW_URL
export HOOKPIPE_HOME=$HOME_B HOOKPIPE_LISTEN=$LISTEN_B \
    HOOKPIPE_ADMIN_LISTEN=$ADMIN_B TRIGGER_URL=$BASE_B
BASE=$BASE_B
ADMIN=http://$ADMIN_B
mkdir -p "$HOME_B"
chmod 700 "$HOME_B"
hookpipe sub list >/dev/null 2>&1

refused "a wrong password" \
    HOOKPIPE_NATS="nats://hookpipe:wrong-$PW@127.0.0.1:$PW_PORT"
assert_contains "it says the server refused the credentials" \
    "the server refused the credentials" "$OUT"
assert_contains "and where they are set" "USER:PASSWORD@HOST:PORT" "$OUT"
assert_not_contains "without the password" "$PW" "$OUT$VOUT"

refused "a password in a malformed URL" \
    HOOKPIPE_NATS="nats://hookpipe:$PW@127.0.0.1:$PW_PORT/x"
assert_contains "it shows the URL" "nats://hookpipe:***@127.0.0.1:$PW_PORT/x" \
    "$OUT"
assert_not_contains "without the password" "$PW" "$OUT$VOUT"

refused "tls:// to a server without TLS" \
    HOOKPIPE_NATS="tls://hookpipe:$PW@127.0.0.1:$PW_PORT"
assert_contains "it says the server does not speak TLS" \
    "the server does not speak TLS" "$OUT"

init_or_stop "with a password" n2
start_stack
ok "with a password: the stages start"
new_sub pw
RAN=$T_DIR/ran.pw
ran_workflow w "$RAN"
f=$(payload batch.completed "$T_DIR/p2.json")
deliver "$SUB_ID" "$SUB_SECRET" "$f"
assert_status "with a password: a signed delivery" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "its workflow ran" wait_for 30 grep -qx "$ev" "$RAN"

out=$(hookpipe cluster status 2>&1)
assert_contains "cluster status shows the connection, password hidden" \
    "NATS: connected to nats://hookpipe:***@127.0.0.1:$PW_PORT" "$out"
out=$out$(hookpipe cluster status --json 2>&1)
assert_not_contains "cluster status (and --json): no password" "$PW" "$out"
out=$(hookpipectl status 2>&1)
assert_contains "hookpipectl status shows the connection" \
    "NATS: connected to nats://hookpipe:***@" "$out"
out=$out$(hookpipectl status --json 2>&1)
assert_not_contains "hookpipectl status (and --json): no password" "$PW" \
    "$out"
api GET /metrics ""
assert_not_contains "/metrics: no password" "$PW" "$HTTP_BODY"
assert_eq "the logs: no password" "" \
    "$(grep -rlF -- "$PW" "$HOME_A/log" "$HOME_B/log" 2>/dev/null)"
# Every process on this machine, the stages and their supervisors
# among them (nats-server reads it from its file; grep from a file, not
# its own arguments).
printf '%s\n' "$PW" >"$T_DIR/pw.pattern"
assert_eq "no process has the password in its arguments" "" \
    "$(grep -laFf "$T_DIR/pw.pattern" /proc/[0-9]*/cmdline 2>/dev/null)"

# --- with a credentials file ---------------------------------------

# An operator, an account with JetStream and a user, as nsc makes them:
# Ed25519 keys and signatures from openssl; their NATS encoding (base32
# of a prefix byte, the key and a CRC-16) and the JWTs from python3's
# standard library; JetStream in operator mode needs a system account
# too. Writes op.jwt, user.creds and accounts (the account's public key
# and JWT, then the system account's, separated by spaces) in DIR.
creds_make() {
	python3 - "$1" <<'PY'
import base64, json, os, subprocess, sys, time

d = sys.argv[1]


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def b32(raw):
    raw += crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True,
                          capture_output=True).stdout


def nkey(name, prefix):
    """The key's file, its public key and its seed, NATS-encoded."""
    pem = os.path.join(d, name + ".nk")
    openssl("genpkey", "-algorithm", "ed25519", "-out", pem)
    pub = openssl("pkey", "-in", pem, "-pubout", "-outform", "DER")[-32:]
    seed = openssl("pkey", "-in", pem, "-outform", "DER")[-32:]
    return pem, b32(bytes([prefix]) + pub), b32(
        bytes([18 << 3 | prefix >> 5, (prefix & 31) << 3]) + seed)


def jwt(signer, iss, sub, nats):
    body = b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body += "." + b64(json.dumps({
        "jti": b32(os.urandom(30))[:52], "iat": int(time.time()),
        "iss": iss, "sub": sub, "name": "hookpipe", "nats": nats}).encode())
    with open(os.path.join(d, "tbs"), "w") as f:
        f.write(body)
    return body + "." + b64(openssl("pkeyutl", "-sign", "-inkey", signer,
                                    "-rawin", "-in", f.name))


op_pem, op, _ = nkey("operator", 14 << 3)
acc_pem, acc, _ = nkey("account", 0)
_, sys_acc, _ = nkey("system", 0)
_, user, seed = nkey("user", 20 << 3)
unlimited = dict.fromkeys(["subs", "data", "payload", "imports", "exports",
                           "conn", "leaf", "mem_storage", "disk_storage",
                           "streams", "consumer"], -1)
with open(os.path.join(d, "op.jwt"), "w") as f:
    f.write(jwt(op_pem, op, op, {"type": "operator", "version": 2}) + "\n")
with open(os.path.join(d, "accounts"), "w") as f:
    f.write(" ".join([acc, jwt(op_pem, op, acc, {
        "type": "account", "version": 2,
        "limits": dict(unlimited, wildcards=True)}), sys_acc,
        jwt(op_pem, op, sys_acc, {"type": "account", "version": 2})]) + "\n")
with open(os.path.join(d, "user.creds"), "w") as f:
    f.write("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n"
            "\n-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n"
            % (jwt(acc_pem, acc, user, {"type": "user", "version": 2,
                                        "pub": {}, "sub": {}, "subs": -1,
                                        "data": -1, "payload": -1}), seed))
PY
}

hookpipectl stop >/dev/null 2>&1
mkdir -p "$PKI/jwt" "$NATS_DIR/jwt"
if creds_make "$PKI/jwt" &&
    read -r ACC_PUB ACC_JWT SYS_PUB SYS_JWT <"$PKI/jwt/accounts"; then
	ok "an operator, an account and a user's .creds file made"
else
	not_ok "an operator, an account and a user's .creds file made"
	finish
fi
other_port JWT_PORT
cat >"$NATS_DIR/jwt.conf" <<EOF
listen: 127.0.0.1:$JWT_PORT
server_name: jwt1
jetstream { store_dir: "$NATS_DIR/jwt" }
operator: "$PKI/jwt/op.jwt"
system_account: $SYS_PUB
resolver: MEMORY
resolver_preload: { $ACC_PUB: "$ACC_JWT", $SYS_PUB: "$SYS_JWT" }
EOF
nats-server -c "$NATS_DIR/jwt.conf" >>"$NATS_DIR/n3.log" 2>&1 &
NATS_PID[3]=$!
if ! wait_for 30 listening "$JWT_PORT"; then
	not_ok "the NATS server in operator mode listens" \
	    "$(tail -n 5 "$NATS_DIR/n3.log")"
	finish
fi
export HOOKPIPE_NATS=nats://127.0.0.1:$JWT_PORT
export HOOKPIPE_NATS_CREDS=$PKI/jwt/user.creds

refused "no credentials file" HOOKPIPE_NATS_CREDS=
assert_contains "it says the server refused the credentials" \
    "the server refused the credentials" "$OUT"
refused "a credentials file that is not there" \
    HOOKPIPE_NATS_CREDS="$PKI/jwt/nope.creds"
assert_contains "it names the variable and the file" \
    "HOOKPIPE_NATS_CREDS=$PKI/jwt/nope.creds: cannot read it" "$OUT"

init_or_stop "with a credentials file" n3
# Host B again, on this server: its subscription and workflow are in
# its own configuration.
start_stack
ok "with a credentials file: the stages start"
f=$(payload batch.completed "$T_DIR/p3.json")
deliver "$SUB_ID" "$SUB_SECRET" "$f"
assert_status "with a credentials file: a signed delivery" 200
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "its workflow ran" wait_for 30 grep -qx "$ev" "$RAN"

# The NATS client reads the credentials file again when it reconnects,
# after the stages confined themselves (Landlock): the server killed and
# started again, deliveries are stored again.
nats_kill 3
nats-server -c "$NATS_DIR/jwt.conf" >>"$NATS_DIR/n3.log" 2>&1 &
NATS_PID[3]=$!
fresh_200() {
	deliver "$SUB_ID" "$SUB_SECRET" "$(payload batch.completed "$T_DIR/p4.json")"
	[ "$HTTP_STATUS" = 200 ]
}
if wait_for 60 fresh_200; then
	ok "the server restarted: the stages reconnect with the credentials file"
else
	not_ok "the server restarted: the stages reconnect with the credentials file" \
	    "last: $HTTP_STATUS $HTTP_BODY"
fi
ev=$(json 'd["event_id"]' <<<"$HTTP_BODY")
check "and its workflow ran" wait_for 30 grep -qx "$ev" "$RAN"

finish
