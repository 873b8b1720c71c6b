SHELL	 = /bin/bash

# hookpipe: a self-hosted webhook trigger gateway.
#
#   make            build bin/
#   make run        install missing build dependencies, build, start the stack
#   make test       unit and end-to-end tests
#   make test-chaos, test-cluster, fuzz, bench   (README, "Tests")
#   make install    PREFIX=/usr/local
#   make deb        a Debian package, in build-deb/

PREFIX	?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec/hookpipe
DATADIR	?= $(PREFIX)/share/hookpipe
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/hookpipe
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
CC	?= cc
OPT	?= -O2
CFLAGS	?= $(OPT) -g
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter
CPPFLAGS += -std=c11 -D_GNU_SOURCE -Icommon -Iverifier -Ireceiver \
	    -DHOOKPIPE_DATADIR='"$(DATADIR)"' \
	    -DHOOKPIPE_BINDIR='"$(PREFIX)/bin"' \
	    -DHOOKPIPE_LIBEXECDIR='"$(LIBEXECDIR)"'
LDLIBS_BASE = -lzmq -lmsgpackc -llmdb -ljansson -ljq -lcurl -lcrypto -lnats

# A sanitized build lives apart (build-san/, build-san/bin) so it never
# mixes with the plain one; the tests run whichever BIN names.
ifdef SANITIZE
CFLAGS	+= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=$(SANITIZE)
B	 = build-san
BIN	 = build-san/bin
else
B	 = build
BIN	 = bin
endif

COMMON	 = common/log.o common/util.o common/config.o common/crypto.o \
	   common/mp.o common/msg.o common/zsock.o common/stage.o common/svc.o \
	   common/db_env.o common/db_config.o common/db_keys.o common/db_events.o \
	   common/db_runs.o common/db_spool.o common/db_retention.o \
	   common/db_migrate.o common/db_ids.o common/db_rejected.o \
	   common/db_console.o \
	   common/integ.o common/integ_forms.o common/handshake.o \
	   common/jqprog.o common/jqpool.o common/sandbox.o \
	   common/httpc.o common/integ_scheme.o common/jwks.o common/metrics.o \
	   common/jwks_fetch.o common/version.o common/db_life.o \
	   common/integ_api.o common/cluster.o common/cluster_wire.o \
	   common/cluster_config.o common/runjson.o common/pid.o
RECEIVER = receiver/main.o $(RECEIVER_LIB)
RECEIVER_LIB = receiver/http.o receiver/handoff.o receiver/oauth.o \
	   receiver/handshake.o
VERIFIER = verifier/main.o verifier/fanout.o $(VERIFY)
VERIFY	 = verifier/verify.o verifier/form.o verifier/scheme_standard.o \
	   verifier/scheme_github.o verifier/scheme_stripe.o \
	   verifier/scheme_slack.o verifier/scheme_hmac.o \
	   verifier/scheme_common.o verifier/scheme_token.o \
	   verifier/scheme_jwt.o \
	   verifier/handshake.o verifier/decrypt.o verifier/subinteg.o
ROUTER	 = router/main.o router/rcluster.o
JQWORKER = router/jqworker.o
ADMIND	 = admin/admind.o admin/adm_api.o admin/adm_cli.o \
	   admin/adm_metrics.o admin/token.o
DISPATCHER = dispatcher/main.o dispatcher/exec.o dispatcher/http.o \
	     dispatcher/jwks.o dispatcher/life.o dispatcher/enrich.o
ADMIN	 = admin/main.o admin/ctx.o admin/out.o admin/cmd_integration.o admin/cmd_sub.o \
	   admin/cmd_workflow.o admin/cmd_events.o admin/cmd_send.o \
	   admin/cmd_tail.o admin/cmd_cred.o admin/cmd_spool.o admin/remote.o \
	   admin/secret_in.o admin/cmd_keys.o admin/cmd_config.o \
	   admin/cmd_doctor.o admin/cmd_backup.o \
	   admin/cmd_console.o admin/token.o admin/cmd_life.o \
	   admin/cred_use.o admin/life_emit.o admin/cmd_cluster.o \
	   admin/cmd_enrich.o

UNIT	 = test_util test_crypto test_mp test_msg test_db_config test_db_keys \
	   test_db_events test_db_runs test_db_spool test_db_retention test_integ \
	   test_config test_verify test_sandbox test_log test_secret \
	   test_schemes test_handshake test_integ_api test_cluster

BINS	 = $(BIN)/hookpipe-receiver $(BIN)/hookpipe-verifier \
	   $(BIN)/hookpipe-router $(BIN)/hookpipe-dispatcher $(BIN)/hookpipe \
	   $(BIN)/hookpipectl $(BIN)/hookpipe-jq $(BIN)/hookpipe-admin

all: $(BINS)

# A stage links only the parts of common/ it uses, and (--as-needed) only
# the libraries those need: the router maps neither libcurl nor its
# dependencies, which was 4 MB of its resident set.
$(B)/libcommon.a: $(addprefix $(B)/,$(COMMON))
	rm -f $@
	$(AR) rcs $@ $^

LDFLAGS_STAGE = -Wl,--as-needed

# The version and commit the binaries report (--version). The stamp is
# rewritten only when it changes, so that a build of the same commit
# relinks nothing.
VERSION	?= 0.1.0
COMMIT	:= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# Two makes at once (CI runs suites side by side) each write their own
# temporary file.
$(B)/stamp.h: FORCE
	@mkdir -p $(B)
	@t=$@.tmp.$$$$; \
	printf '#define HP_STAMP_VERSION "%s"\n#define HP_STAMP_COMMIT "%s"\n#define HP_STAMP_CFLAGS "%s"\n#define HP_STAMP_PREFIX "%s"\n' \
	    '$(VERSION)' '$(COMMIT)' '$(strip $(CFLAGS))' '$(PREFIX)' >$$t; \
	cmp -s $$t $@ && rm -f $$t || mv -f $$t $@

$(B)/common/version.o $(B)/fuzz/common/version.o: $(B)/stamp.h
$(B)/common/version.o $(B)/fuzz/common/version.o: CPPFLAGS += -I$(B)

FORCE:

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

$(BIN)/hookpipe-receiver: $(addprefix $(B)/,$(RECEIVER)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ -lmicrohttpd $(LDLIBS_BASE)

$(BIN)/hookpipe-verifier: $(addprefix $(B)/,$(VERIFIER)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ $(LDLIBS_BASE)

$(BIN)/hookpipe-router: $(addprefix $(B)/,$(ROUTER)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ $(LDLIBS_BASE)

$(BIN)/hookpipe-jq: $(addprefix $(B)/,$(JQWORKER)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ -ljq -lcrypto

$(BIN)/hookpipe-dispatcher: $(addprefix $(B)/,$(DISPATCHER)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ $(LDLIBS_BASE)

$(BIN)/hookpipe: $(addprefix $(B)/,$(ADMIN)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ $(LDLIBS_BASE)

$(BIN)/hookpipe-admin: $(addprefix $(B)/,$(ADMIND)) $(B)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $(LDFLAGS_STAGE) -o $@ $^ -lmicrohttpd -lpthread \
	    $(LDLIBS_BASE)

$(BIN)/hookpipectl: admin/hookpipectl.sh $(B)/stamp.h
	@mkdir -p $(BIN)
	sed 's/@VERSION@/$(VERSION) (commit $(COMMIT))/' $< >$@
	chmod 755 $@

# Unit tests link the module under test and its neighbours in common/.
$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(addprefix $(B)/,$(COMMON) \
	    $(VERIFY))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

# The CLI's secret options, with the parts of admin/ they use.
SECRET_IN = admin/secret_in.o admin/out.o

$(B)/tests/test_secret: $(B)/tests/unit/test_secret.o \
	    $(addprefix $(B)/,$(SECRET_IN) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

unit: $(addprefix $(B)/tests/,$(UNIT))

test: all unit test-deps
	@HOOKPIPE_BIN=$(CURDIR)/$(BIN) HOOKPIPE_UNIT=$(CURDIR)/$(B)/tests \
	    bash tests/run.sh

# The test clients from npm (providers' own signing libraries), once.
test-deps: tests/npm/node_modules/.package-lock.json
tests/npm/node_modules/.package-lock.json: tests/npm/package-lock.json
	@bash .ci/deps
	cd tests/npm && npm ci --no-audit --no-fund --loglevel=error

# Fuzzing (clang, libFuzzer): every target for FUZZ_SECONDS, from the seed
# corpus in tests/fuzz/corpus. CI runs each briefly.
FUZZ	 = fuzz_msg fuzz_verify fuzz_integ fuzz_form fuzz_http fuzz_secret \
	   fuzz_escape fuzz_quarantine fuzz_tpl fuzz_kv fuzz_jwt fuzz_pem \
	   fuzz_evtype fuzz_decrypt fuzz_handshake fuzz_cluster
FUZZ_SECONDS ?= 60
FUZZ_CC	 = clang
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	   -fno-sanitize-recover=undefined
FB	 = $(B)/fuzz

$(FB)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_FLAGS) -c -o $@ $<

$(FB)/fuzz_http: $(FB)/tests/fuzz/fuzz_http.o $(addprefix $(FB)/,$(COMMON) \
	    $(RECEIVER_LIB))
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ -lmicrohttpd \
	    $(LDLIBS_BASE)

$(FB)/fuzz_secret: $(FB)/tests/fuzz/fuzz_secret.o $(addprefix $(FB)/,$(COMMON) \
	    $(SECRET_IN))
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS_BASE)

$(FB)/fuzz_%: $(FB)/tests/fuzz/fuzz_%.o $(addprefix $(FB)/,$(COMMON) $(VERIFY))
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS_BASE)

fuzz-build: $(addprefix $(FB)/,$(FUZZ))

fuzz: fuzz-build
	@set -e; for t in $(FUZZ); do \
	    c=tests/fuzz/corpus/$${t#fuzz_}; w=$(FB)/work/$$t; \
	    mkdir -p $$w; \
	    echo "== $$t ($(FUZZ_SECONDS) s)"; \
	    $(FB)/$$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	        -print_final_stats=1 $$w $$c 2>&1 | \
	        grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-' ; \
	    test $${PIPESTATUS[0]} -eq 0; \
	done

# Chaos, crash consistency, hostile input and backpressure (issue 6).
test-chaos: all
	@bash tests/chaos/all.sh

# Cluster mode (issue 18): three nats-server processes and two hosts on
# loopback, tests/cluster/*.sh.
test-cluster: all
	@bash .ci/deps
	@HOOKPIPE_BIN=$(CURDIR)/$(BIN) bash tests/cluster/run.sh

# Every stage under valgrind through 10,000 events: no leak, no error.
test-valgrind: all
	@bash tests/chaos/valgrind.sh

# Benchmarks (issue 7): figures on stdout and in bench/results.md.
bench: all
	@bash bench/run.sh

run: deps all
	bin/hookpipectl start --foreground

deps:
	@bash .ci/deps

# The CLI and hookpipectl in bin, the stages and the jq worker in
# libexec/hookpipe (hookpipectl finds them there), the definitions and
# examples in share/hookpipe. The paths are built into the binaries:
# build with the PREFIX you install to.
STAGE_BINS = $(BIN)/hookpipe-receiver $(BIN)/hookpipe-verifier \
	   $(BIN)/hookpipe-router $(BIN)/hookpipe-dispatcher $(BIN)/hookpipe-jq \
	   $(BIN)/hookpipe-admin
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBEXECDIR) \
	    $(DESTDIR)$(DATADIR)/examples $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(BIN)/hookpipe $(BIN)/hookpipectl $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(STAGE_BINS) $(DESTDIR)$(LIBEXECDIR)/
	cd integrations && find . -type f | while read -r f; do \
	    install -D -m 644 "$$f" "$(DESTDIR)$(DATADIR)/integrations/$$f" || \
	    exit 1; done
	install -m 644 examples/* $(DESTDIR)$(DATADIR)/examples/
	install -d $(DESTDIR)$(DATADIR)/console
	install -m 644 admin/console/* $(DESTDIR)$(DATADIR)/console/
	install -m 644 man/hookpipe.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/hookpipe.env.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/hookpipectl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 644 completion/hookpipe.bash $(DESTDIR)$(BASHCOMPDIR)/hookpipe
	ln -sf hookpipe $(DESTDIR)$(BASHCOMPDIR)/hookpipectl
	install -m 644 completion/_hookpipe $(DESTDIR)$(ZSHCOMPDIR)/

# A Debian package: built for /usr in build-deb/ (the paths are built
# in), installed as make install does, with systemd units from
# hookpipectl gen that run the stages as the user hookpipe, in
# /var/lib/hookpipe. The maintainer scripts are in pkg/deb. dpkg-deb and
# dpkg-shlibdeps only: no debhelper needed.
DEB_VERSION ?= 0.1~git$(shell git rev-parse --short HEAD 2>/dev/null || echo 0)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DB	 = build-deb
DEB_ROOT = $(DB)/debian/hookpipe
# Objects that do not embed a path are the same for /usr: build-deb/
# starts as a copy of build/, less those that do.
PATH_OBJS = $(patsubst %.c,$(DB)/%.o,$(shell grep -rl --include='*.c' \
	   -e HOOKPIPE_DATADIR -e HOOKPIPE_BINDIR -e HOOKPIPE_LIBEXECDIR \
	   common admin receiver verifier router dispatcher))
deb:
	@if [ -d build ] && [ ! -d $(DB) ]; then \
	    cp -a build $(DB) && \
	    find $(DB) -name '*.d' -exec sed -i 's|^build/|$(DB)/|' {} + ; \
	fi
	rm -f $(PATH_OBJS)
	$(MAKE) B=$(DB) BIN=$(DB)/bin PREFIX=/usr all
	rm -rf $(DB)/debian
	$(MAKE) B=$(DB) BIN=$(DB)/bin PREFIX=/usr DESTDIR=$(CURDIR)/$(DEB_ROOT) \
	    ZSHCOMPDIR=/usr/share/zsh/vendor-completions install
	$(DB)/bin/hookpipectl gen systemd $(DEB_ROOT)/lib/systemd/system \
	    --user hookpipe --home /var/lib/hookpipe --listen 127.0.0.1:8080 \
	    --exe-dir /usr/libexec/hookpipe 2>/dev/null >/dev/null
	install -d -m 755 $(DEB_ROOT)/DEBIAN
	install -m 755 pkg/deb/postinst pkg/deb/prerm pkg/deb/postrm \
	    $(DEB_ROOT)/DEBIAN/
	printf 'Source: hookpipe\n\nPackage: hookpipe\nArchitecture: any\n' \
	    >$(DB)/debian/control
	cd $(DB) && dpkg-shlibdeps -O -e debian/hookpipe/usr/bin/hookpipe \
	    $(addprefix -edebian/hookpipe/usr/libexec/hookpipe/, \
	    hookpipe-receiver hookpipe-verifier hookpipe-router \
	    hookpipe-dispatcher hookpipe-jq hookpipe-admin) 2>/dev/null | \
	    sed -n 's/^shlibs:Depends=//p' >debian/depends
	{ echo "Package: hookpipe"; \
	  echo "Version: $(DEB_VERSION)"; \
	  echo "Architecture: $(DEB_ARCH)"; \
	  echo "Maintainer: hookpipe maintainers <hookpipe@localhost>"; \
	  echo "Installed-Size: $$(du -sk $(DEB_ROOT) | cut -f1)"; \
	  echo "Depends: $$(cat $(DB)/debian/depends), passwd"; \
	  echo "Recommends: systemd"; \
	  echo "Section: net"; \
	  echo "Priority: optional"; \
	  echo "Description: self-hosted webhook trigger gateway"; \
	  echo " hookpipe receives webhooks (OpenAI, Stripe, GitHub, Slack, any"; \
	  echo " Standard Webhooks sender), checks their signatures, stores the"; \
	  echo " events and runs the workflows they trigger: a command, an HTTP"; \
	  echo " endpoint or a ZeroMQ consumer, with retries."; \
	  echo " ."; \
	  echo " It runs as four systemd services under the user hookpipe, with"; \
	  echo " its state in /var/lib/hookpipe."; \
	} >$(DEB_ROOT)/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) \
	    $(DB)/hookpipe_$(DEB_VERSION)_$(DEB_ARCH).deb

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hookpipe $(DESTDIR)$(PREFIX)/bin/hookpipectl \
	    $(DESTDIR)$(MANDIR)/man1/hookpipe.1 \
	    $(DESTDIR)$(MANDIR)/man5/hookpipe.env.5 \
	    $(DESTDIR)$(MANDIR)/man8/hookpipectl.8 \
	    $(DESTDIR)$(BASHCOMPDIR)/hookpipe $(DESTDIR)$(BASHCOMPDIR)/hookpipectl \
	    $(DESTDIR)$(ZSHCOMPDIR)/_hookpipe
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-san build-deb bin

.PHONY: all unit test test-deps test-chaos test-cluster test-valgrind bench run deps install uninstall deb clean fuzz fuzz-build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
