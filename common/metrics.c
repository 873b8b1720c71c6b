#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

const struct metric_desc metric_descs[M_NMETRICS] = {
	[M_DELIVERIES] = { "hookpipe_deliveries_total",
	    "Deliveries answered, by subscription id and HTTP status.",
	    MT_COUNTER, { "subscription", "status" } },
	[M_RX_RESPONSES] = { "hookpipe_receiver_responses_total",
	    "HTTP responses of the receiver by status class.", MT_COUNTER,
	    { "class", NULL } },
	[M_RX_SPOOLED] = { "hookpipe_receiver_spooled_total",
	    "Deliveries spooled while the verifier was away.", MT_COUNTER,
	    { NULL, NULL } },
	[M_RX_REFUSED] = { "hookpipe_receiver_refused_total",
	    "Deliveries refused to keep the receiver within its limits, by "
	    "reason.", MT_COUNTER, { "reason", NULL } },
	[M_RX_EVICTED] = { "hookpipe_receiver_connections_evicted_total",
	    "Connections closed before their request to make room for new "
	    "ones.", MT_COUNTER, { NULL, NULL } },
	[M_RX_INFLIGHT] = { "hookpipe_receiver_inflight",
	    "Deliveries waiting for a verdict.", MT_GAUGE, { NULL, NULL } },
	[M_RX_CONNECTIONS] = { "hookpipe_receiver_connections",
	    "Open connections.", MT_GAUGE, { NULL, NULL } },
	[M_RX_BODY_BYTES] = { "hookpipe_receiver_body_bytes",
	    "Bytes held for request bodies.", MT_GAUGE, { NULL, NULL } },
	[M_RX_BODY_BUDGET] = { "hookpipe_receiver_body_budget_bytes",
	    "HOOKPIPE_BODY_BUDGET.", MT_GAUGE, { NULL, NULL } },
	[M_EVENTS] = { "hookpipe_events_total",
	    "Verified deliveries by result: stored, ignored (a type the "
	    "subscription does not select) or duplicate.", MT_COUNTER,
	    { "result", NULL } },
	[M_VERIFY_FAILURES] = { "hookpipe_verification_failures_total",
	    "Deliveries the verifier refused, by reason.", MT_COUNTER,
	    { "reason", NULL } },
	[M_HANDSHAKES] = { "hookpipe_handshakes_total",
	    "Provider handshakes answered.", MT_COUNTER, { NULL, NULL } },
	[M_QUARANTINED] = { "hookpipe_spool_quarantined_total",
	    "Spooled deliveries set aside.", MT_COUNTER, { NULL, NULL } },
	[M_EVENTS_ROUTED] = { "hookpipe_events_routed_total",
	    "Events the router has passed.", MT_COUNTER, { NULL, NULL } },
	[M_RUNS] = { "hookpipe_runs_total",
	    "Runs by workflow and status: queued (made by the router), "
	    "succeeded, dead.", MT_COUNTER, { "workflow", "status" } },
	[M_ATTEMPTS] = { "hookpipe_attempts_total",
	    "Attempts finished, by workflow and result.", MT_COUNTER,
	    { "workflow", "result" } },
	[M_RETRIES] = { "hookpipe_retries_scheduled_total",
	    "Failed attempts given a retry, by workflow.", MT_COUNTER,
	    { "workflow", NULL } },
	[M_DISPATCHER_ACTIVE] = { "hookpipe_dispatcher_active",
	    "Attempts running now.", MT_GAUGE, { NULL, NULL } },
	[M_ADMIN_REQUESTS] = { "hookpipe_admin_requests_total",
	    "Requests to the admin listener, by HTTP status.", MT_COUNTER,
	    { "status", NULL } },
	[M_ADMIN_LOGINS] = { "hookpipe_admin_logins_total",
	    "Console logins, by result.", MT_COUNTER, { "result", NULL } },
	[M_QUEUE] = { "hookpipe_queue_depth",
	    "Work waiting: deliveries in the spool, events the router has "
	    "not passed yet (unrouted), runs due to start (due); cluster "
	    "mode: this host's marks of unfinished runs in use (marks).",
	    MT_GAUGE,
	    { "queue", NULL } },
	[M_MAP_USED] = { "hookpipe_db_map_used_bytes",
	    "Bytes of a part of the state in use.", MT_GAUGE,
	    { "part", NULL } },
	[M_MAP_SIZE] = { "hookpipe_db_map_size_bytes",
	    "The map size of a part of the state (it grows on demand up to "
	    "16 times HOOKPIPE_MAP_SIZE).", MT_GAUGE, { "part", NULL } },
};

const struct metric_hist_desc metric_hist_descs[H_NHIST] = {
	[H_RECEIVE] = { "hookpipe_receive_seconds",
	    "From a delivery's request to its 2xx answer, in the receiver." },
	[H_ACTION_START] = { "hookpipe_action_start_seconds",
	    "From a delivery's receipt to the start of its run's first "
	    "attempt." },
};

const int64_t metric_bounds_us[METRICS_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000
};

static struct metrics_file *mine;

static void
metrics_path(const struct config *cfg, const char *stage, char *out,
    size_t len)
{
	snprintf(out, len, "%s/%s.metrics", cfg->run_dir, stage);
}

static int
header_ok(const struct metrics_file *f)
{
	return memcmp(f->magic, METRICS_MAGIC, sizeof(f->magic)) == 0 &&
	    f->version == METRICS_VERSION &&
	    f->size == sizeof(struct metrics_file) &&
	    f->nmetrics == M_NMETRICS && f->nslots == METRICS_SLOTS;
}

static void
header_fill(struct metrics_file *f)
{
	memcpy(f->magic, METRICS_MAGIC, sizeof(f->magic));
	f->version = METRICS_VERSION;
	f->size = sizeof(*f);
	f->nmetrics = M_NMETRICS;
	f->nslots = METRICS_SLOTS;
	f->created_us = now_us();
}

/*
 * The file at path, of the right layout, open and locked on *fd. A new
 * (empty) file is laid out in place: nobody maps an empty file. One of
 * another layout may be mapped by a process of another build: it is
 * replaced, never resized under it.
 */
static int
metrics_file_open(const char *path, int *fd)
{
	struct metrics_file hdr;
	struct stat st, at;
	char tmp[PATH_MAX + 32];
	int i, f;

	for (i = 0; i < 5; i++) {
		if ((f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
			return -1;
		if (flock(f, LOCK_EX) == -1 || fstat(f, &st) == -1 ||
		    stat(path, &at) == -1) {
			close(f);
			return -1;
		}
		if (st.st_ino != at.st_ino) {
			close(f);	/* replaced meanwhile: the new one */
			continue;
		}
		if (st.st_size == 0) {
			memset(&hdr, 0, sizeof(hdr));
			header_fill(&hdr);
			if (ftruncate(f, sizeof(struct metrics_file)) == -1 ||
			    pwrite(f, &hdr, offsetof(struct metrics_file,
			    hist), 0) == -1) {
				close(f);
				return -1;
			}
			*fd = f;
			return 0;
		}
		if (st.st_size == sizeof(struct metrics_file) &&
		    pread(f, &hdr, offsetof(struct metrics_file, hist), 0) ==
		    (ssize_t)offsetof(struct metrics_file, hist) &&
		    header_ok(&hdr)) {
			*fd = f;
			return 0;
		}
		/* Another layout: start anew beside it, then take its
		 * place. */
		snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
		unlink(tmp);
		close(open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
		if (rename(tmp, path) == -1) {
			unlink(tmp);
			close(f);
			return -1;
		}
		close(f);
	}
	errno = EAGAIN;
	return -1;
}

int
metrics_open(const struct config *cfg, const char *stage)
{
	char path[PATH_MAX + 32];
	void *p;
	int fd;

	metrics_path(cfg, stage, path, sizeof(path));
	if (metrics_file_open(path, &fd) == -1) {
		log_warn("metrics: cannot open %s: %s (going on without "
		    "metrics)", path, strerror(errno));
		return -1;
	}
	p = mmap(NULL, sizeof(struct metrics_file), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	flock(fd, LOCK_UN);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("metrics: cannot map %s: %s (going on without "
		    "metrics)", path, strerror(errno));
		return -1;
	}
	mine = p;
	return 0;
}

/* "l1\0l2\0" into out; its length. Long values are cut: labels are ids
 * and names, far shorter. */
static size_t
labels_key(const char *l1, const char *l2, char *out)
{
	size_t n = 0, k;

	memset(out, 0, METRICS_LABELS);
	if (l1 != NULL) {
		k = strnlen(l1, METRICS_LABELS / 2 - 1);
		memcpy(out, l1, k);
		n = k + 1;
	}
	if (l2 != NULL) {
		k = strnlen(l2, METRICS_LABELS / 2 - 1);
		memcpy(out + n, l2, k);
		n += k + 1;
	}
	return n;
}

static uint32_t
key_hash(enum metric m, const char *labels, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)m;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)labels[i]) * 16777619u;
	return h;
}

static struct metrics_slot *
slot_of(enum metric m, const char *l1, const char *l2)
{
	char key[METRICS_LABELS];
	size_t n = labels_key(l1, l2, key), i;
	uint32_t h = key_hash(m, key, n), expect;
	struct metrics_slot *s;

	for (i = 0; i < METRICS_SLOTS; i++) {
		s = &mine->slot[(h + i) & (METRICS_SLOTS - 1)];
		switch (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) {
		case SLOT_READY:
			if (s->metric == (uint32_t)m &&
			    memcmp(s->labels, key, METRICS_LABELS) == 0)
				return s;
			continue;
		case SLOT_FREE:
			expect = SLOT_FREE;
			if (!__atomic_compare_exchange_n(&s->state, &expect,
			    SLOT_CLAIMED, 0, __ATOMIC_ACQ_REL,
			    __ATOMIC_ACQUIRE))
				continue;	/* another writer took it */
			s->metric = (uint32_t)m;
			memcpy(s->labels, key, METRICS_LABELS);
			__atomic_store_n(&s->state, SLOT_READY,
			    __ATOMIC_RELEASE);
			return s;
		default:
			continue;	/* being claimed by another writer */
		}
	}
	__atomic_add_fetch(&mine->dropped, 1, __ATOMIC_RELAXED);
	return NULL;
}

void
metrics_add(enum metric m, const char *l1, const char *l2, uint64_t n)
{
	struct metrics_slot *s;

	if (mine != NULL && (s = slot_of(m, l1, l2)) != NULL)
		__atomic_add_fetch(&s->value, n, __ATOMIC_RELAXED);
}

void
metrics_set(enum metric m, const char *l1, const char *l2, int64_t v)
{
	struct metrics_slot *s;

	if (mine != NULL && (s = slot_of(m, l1, l2)) != NULL)
		__atomic_store_n(&s->value, (uint64_t)v, __ATOMIC_RELAXED);
}

void
metrics_observe(enum metric_hist h, int64_t us)
{
	struct metrics_histogram *hg;
	int b;

	if (mine == NULL)
		return;
	if (us < 0)
		us = 0;
	for (b = 0; b < METRICS_BUCKETS && us > metric_bounds_us[b]; b++)
		;
	hg = &mine->hist[h];
	__atomic_add_fetch(&hg->bucket[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hg->sum_us, (uint64_t)us, __ATOMIC_RELAXED);
	__atomic_add_fetch(&hg->count, 1, __ATOMIC_RELAXED);
}

const struct metrics_file *
metrics_map(const struct config *cfg, const char *stage)
{
	char path[PATH_MAX + 32];
	struct stat st;
	void *p;
	int fd;

	metrics_path(cfg, stage, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 ||
	    st.st_size != (off_t)sizeof(struct metrics_file)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, sizeof(struct metrics_file), PROT_READ, MAP_SHARED, fd,
	    0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	if (!header_ok(p)) {
		munmap(p, sizeof(struct metrics_file));
		return NULL;
	}
	return p;
}

void
metrics_unmap(const struct metrics_file *f)
{
	if (f != NULL)
		munmap((void *)f, sizeof(struct metrics_file));
}

void
metrics_db(struct db *db, int parts)
{
	static const char *const names[DB_NPARTS] = {
		"config", "events", "runs", "spool"
	};
	MDB_envinfo info;
	MDB_stat st;
	int p;

	if (mine == NULL)
		return;
	for (p = 0; p < DB_NPARTS; p++) {
		if (!(parts & DB_PART(p)) || db->part[p].env == NULL ||
		    mdb_env_info(db->part[p].env, &info) != 0 ||
		    mdb_env_stat(db->part[p].env, &st) != 0)
			continue;
		metrics_set(M_MAP_USED, names[p], NULL,
		    (int64_t)(info.me_last_pgno + 1) * st.ms_psize);
		metrics_set(M_MAP_SIZE, names[p], NULL,
		    (int64_t)info.me_mapsize);
	}
}
