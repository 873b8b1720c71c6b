/*
 * /metrics: every stage's counters (run/<stage>.metrics, see metrics.h)
 * summed into one Prometheus text exposition, with the supervisor's
 * view of the stages (up, restarts) from run/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admind.h"
#include "metrics.h"

struct sample {
	uint32_t	 metric;
	char		 labels[METRICS_LABELS];
	uint64_t	 value;
};

static int
sample_cmp(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return memcmp(x->labels, y->labels, METRICS_LABELS);
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void
label_value(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_appendf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_append(b, "\\n", 2);
		else
			buf_append(b, v, 1);
	}
}

static void
labels(struct buf *b, const struct metric_desc *d, const char *key)
{
	const char *v = key;
	int i;

	if (d->label[0] == NULL)
		return;
	buf_append(b, "{", 1);
	for (i = 0; i < 2 && d->label[i] != NULL; i++) {
		buf_appendf(b, "%s%s=\"", i ? "," : "", d->label[i]);
		label_value(b, v);
		buf_append(b, "\"", 1);
		v += strlen(v) + 1;
	}
	buf_append(b, "}", 1);
}

static void
header(struct buf *b, const char *name, const char *help, const char *type)
{
	buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The lifecycle's counters (hookpipe lifecycle keeps them in db/config). */
static int
life_counter(void *arg, const char *name, int64_t n)
{
	struct buf *b = arg;

	buf_appendf(b, "hookpipe_lifecycle_total{what=\"");
	label_value(b, name);
	buf_appendf(b, "\"} %lld\n", (long long)n);
	return 0;
}

/* run/<stage>.restarts: "TOTAL CRASHES", written by hookpipectl. */
static void
restarts(const struct config *cfg, const char *stage, long *total,
    long *crashes)
{
	char path[PATH_MAX + 32];
	FILE *f;

	*total = *crashes = 0;
	snprintf(path, sizeof(path), "%s/%s.restarts", cfg->run_dir, stage);
	if ((f = fopen(path, "re")) == NULL)
		return;
	if (fscanf(f, "%ld %ld", total, crashes) != 2)
		*total = *crashes = 0;
	fclose(f);
}

/*
 * Cluster mode: the NATS connection of the admin stage (the one that
 * reads the configuration bucket), each stream's messages, each durable
 * consumer's lag, and the configuration revision applied here against
 * the bucket's latest. Asked of JetStream at each scrape.
 */
static void
cluster_metrics(struct admin *adm, struct buf *b)
{
	json_t *st = NULL, *s, *d;
	uint64_t latest = 0, applied = 0;
	size_t i, j;
	char err[256];
	MDB_txn *txn;
	int up;

	if (__atomic_load_n(&adm->nats_up, __ATOMIC_ACQUIRE))
		st = cluster_status(&adm->cl);
	up = st != NULL &&
	    json_string_value(json_object_get(st, "connected")) != NULL;
	header(b, "hookpipe_cluster_connected", "Cluster mode: 1 when this "
	    "host is connected to a NATS server.", "gauge");
	buf_appendf(b, "hookpipe_cluster_connected %d\n", up);
	header(b, "hookpipe_cluster_hosts_up", "Cluster mode: the hosts seen "
	    "up in the last 15 s (-1: not known yet), as this host's admin "
	    "stage last read them.", "gauge");
	buf_appendf(b, "hookpipe_cluster_hosts_up %d\n",
	    __atomic_load_n(&adm->hosts_up, __ATOMIC_RELAXED));
	header(b, "hookpipe_cluster_stream_messages", "Messages in each "
	    "JetStream stream (a bucket is the stream KV_<bucket>).", "gauge");
	json_array_foreach(json_object_get(st, "streams"), i, s)
		if (json_object_get(s, "messages") != NULL)
			buf_appendf(b, "hookpipe_cluster_stream_messages"
			    "{stream=\"%s\"} %lld\n", json_string_value(
			    json_object_get(s, "name")), (long long)
			    json_integer_value(json_object_get(s, "messages")));
	header(b, "hookpipe_cluster_consumer_pending", "Messages of the "
	    "stream a durable consumer has not been given yet (its lag).",
	    "gauge");
	header(b, "hookpipe_cluster_consumer_ack_pending", "Messages a "
	    "durable consumer was given and that are not acknowledged yet.",
	    "gauge");
	header(b, "hookpipe_cluster_consumer_redelivered", "Messages given "
	    "again (their first taker did not acknowledge them in time) and "
	    "not acknowledged yet.", "gauge");
	json_array_foreach(json_object_get(st, "streams"), i, s) {
		json_array_foreach(json_object_get(s, "durables"), j, d) {
			const char *m[3] = { "pending", "ack_pending",
			    "redelivered" };
			int k;

			for (k = 0; k < 3; k++)
				buf_appendf(b, "hookpipe_cluster_consumer_%s"
				    "{stream=\"%s\",consumer=\"%s\"} %lld\n",
				    m[k], json_string_value(json_object_get(s,
				    "name")), json_string_value(
				    json_object_get(d, "name")), (long long)
				    json_integer_value(json_object_get(d,
				    m[k])));
		}
	}
	json_decref(st);
	if (up && ccfg_latest(&adm->cl, NULL, &latest, err,
	    sizeof(err)) != 0)
		latest = 0;
	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 1)) != NULL) {
		applied = ccfg_applied(txn, &adm->db);
		mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&adm->dblock);
	header(b, "hookpipe_cluster_config_revision", "The configuration "
	    "bucket's revision this host applied, and the latest (0: not "
	    "known).", "gauge");
	buf_appendf(b, "hookpipe_cluster_config_revision{which=\"applied\"} "
	    "%llu\n", (unsigned long long)applied);
	buf_appendf(b, "hookpipe_cluster_config_revision{which=\"latest\"} "
	    "%llu\n", (unsigned long long)latest);
}

char *
adm_metrics_text(struct admin *adm, size_t *len)
{
	const struct metrics_file *f[STAGES_N];
	struct metrics_histogram h[H_NHIST];
	struct sample *s = NULL;
	size_t ns = 0, i, j;
	uint64_t dropped = 0, cum;
	struct buf b = { 0 };
	long total, crashes;
	MDB_txn *txn;
	int k, m, bk;

	memset(h, 0, sizeof(h));
	s = calloc((size_t)STAGES_N * METRICS_SLOTS, sizeof(*s));
	if (s == NULL)
		return NULL;
	for (k = 0; k < STAGES_N; k++) {
		if ((f[k] = metrics_map(&adm->cfg, stage_names[k])) == NULL)
			continue;
		dropped += __atomic_load_n(&f[k]->dropped, __ATOMIC_RELAXED);
		for (m = 0; m < H_NHIST; m++) {
			for (bk = 0; bk <= METRICS_BUCKETS; bk++)
				h[m].bucket[bk] += __atomic_load_n(
				    &f[k]->hist[m].bucket[bk],
				    __ATOMIC_RELAXED);
			h[m].count += __atomic_load_n(&f[k]->hist[m].count,
			    __ATOMIC_RELAXED);
			h[m].sum_us += __atomic_load_n(&f[k]->hist[m].sum_us,
			    __ATOMIC_RELAXED);
		}
		for (i = 0; i < METRICS_SLOTS; i++) {
			const struct metrics_slot *sl = &f[k]->slot[i];

			if (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) !=
			    SLOT_READY || sl->metric >= M_NMETRICS)
				continue;
			s[ns].metric = sl->metric;
			memcpy(s[ns].labels, sl->labels, METRICS_LABELS);
			s[ns].labels[METRICS_LABELS - 1] = '\0';
			s[ns].labels[METRICS_LABELS - 2] = '\0';
			s[ns].value = __atomic_load_n(&sl->value,
			    __ATOMIC_RELAXED);
			ns++;
		}
		metrics_unmap(f[k]);
	}
	/* The same key in two files (or twice in one, during a receiver's
	 * handover) is one series: add them up. */
	qsort(s, ns, sizeof(*s), sample_cmp);
	for (i = j = 0; i < ns; i++) {
		if (j > 0 && sample_cmp(&s[j - 1], &s[i]) == 0)
			s[j - 1].value += s[i].value;
		else
			s[j++] = s[i];
	}
	ns = j;

	for (m = 0, i = 0; m < M_NMETRICS; m++) {
		const struct metric_desc *d = &metric_descs[m];
		int any = 0;

		if (d->name == NULL)
			continue;
		for (; i < ns && s[i].metric == (uint32_t)m; i++) {
			if (!any)
				header(&b, d->name, d->help, d->type ==
				    MT_GAUGE ? "gauge" : "counter");
			any = 1;
			buf_append(&b, d->name, strlen(d->name));
			labels(&b, d, s[i].labels);
			if (d->type == MT_GAUGE)
				buf_appendf(&b, " %lld\n",
				    (long long)(int64_t)s[i].value);
			else
				buf_appendf(&b, " %llu\n",
				    (unsigned long long)s[i].value);
		}
		/* A series without labels is there from the start. */
		if (!any && d->label[0] == NULL) {
			header(&b, d->name, d->help, d->type == MT_GAUGE ?
			    "gauge" : "counter");
			buf_appendf(&b, "%s 0\n", d->name);
		}
	}
	for (m = 0; m < H_NHIST; m++) {
		const char *name = metric_hist_descs[m].name;

		header(&b, name, metric_hist_descs[m].help, "histogram");
		for (bk = 0, cum = 0; bk < METRICS_BUCKETS; bk++) {
			cum += h[m].bucket[bk];
			buf_appendf(&b, "%s_bucket{le=\"%g\"} %llu\n", name,
			    (double)metric_bounds_us[bk] / 1e6,
			    (unsigned long long)cum);
		}
		cum += h[m].bucket[METRICS_BUCKETS];
		buf_appendf(&b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
		    (unsigned long long)cum);
		buf_appendf(&b, "%s_sum %.6f\n%s_count %llu\n", name,
		    (double)h[m].sum_us / 1e6, name,
		    (unsigned long long)h[m].count);
	}
	header(&b, "hookpipe_stage_up", "1 when the stage is running.",
	    "gauge");
	for (k = 0; k < STAGES_N; k++)
		buf_appendf(&b, "hookpipe_stage_up{stage=\"%s\"} %d\n",
		    stage_names[k], stage_is_up(&adm->cfg, stage_names[k]));
	header(&b, "hookpipe_stage_restarts_total", "Times the supervisor "
	    "started the stage again, by reason: crash or requested.",
	    "counter");
	for (k = 0; k < STAGES_N; k++) {
		restarts(&adm->cfg, stage_names[k], &total, &crashes);
		buf_appendf(&b, "hookpipe_stage_restarts_total{stage=\"%s\","
		    "reason=\"crash\"} %ld\n", stage_names[k], crashes);
		buf_appendf(&b, "hookpipe_stage_restarts_total{stage=\"%s\","
		    "reason=\"requested\"} %ld\n", stage_names[k],
		    total - crashes < 0 ? 0 : total - crashes);
	}
	header(&b, "hookpipe_lifecycle_total", "What the lifecycle did: "
	    "renewals, token refreshes, checks, silences, by outcome.",
	    "counter");
	pthread_mutex_lock(&adm->dblock);
	if ((txn = db_begin(&adm->db, DB_CONFIG, 1)) != NULL) {
		db_life_counters(txn, &adm->db, life_counter, &b);
		mdb_txn_abort(txn);
	}
	pthread_mutex_unlock(&adm->dblock);
	if (cluster_enabled())
		cluster_metrics(adm, &b);
	header(&b, "hookpipe_metrics_dropped_total", "Counts lost because a "
	    "stage's metrics table was full.", "counter");
	buf_appendf(&b, "hookpipe_metrics_dropped_total %llu\n",
	    (unsigned long long)dropped);
	free(s);
	if (b.data == NULL)
		return NULL;
	*len = b.len;
	return b.data;
}
