/*
 * Enrichment: some providers send only an id (OpenAI) or a ping
 * (Airtable), and a definition's "enrich" block names the calls that
 * fetch what the event is about (README, "Enrichment"). Before a run's
 * action starts, the dispatcher looks whether every call that applies to
 * its event has its result stored (db/runs' `enriched`, by event); when
 * one is missing, the attempt starts with `hookpipe enrich RUN` instead
 * of the action. The calls are the CLI's (admin/cmd_enrich.c): they need
 * the subscription's credential unsealed and, for OAuth, refreshed and
 * written back to db/config, whose writer is the CLI; and a provider's
 * slow answer must not hold up the loop that runs every other action.
 * The child is a job like an exec action: watched through its pidfd,
 * its output kept, killed at its deadline.
 *
 * When the child succeeds, the run goes back to the queue under the same
 * attempt (main.c): the action starts with the results in its run
 * document. When it fails, the attempt is recorded with its message and
 * retried as an action's would be, or not at all when the provider
 * refused for good.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "integ.h"
#include "integ_api.h"

extern char **environ;

/* admin/cmd_enrich.c's exit statuses. */
#define ENRICH_AGAIN	75
#define ENRICH_REFUSED	65

static json_t *
calls_of(const struct integ_set *integs, const struct event_rec *ev)
{
	const struct integ *ig = integ_find(integs, ev->integration);

	return ig != NULL ? json_object_get(ig->def, "enrich") : NULL;
}

int
enrich_needed(const struct integ_set *integs, MDB_txn *runs, struct db *db,
    const struct event_rec *ev)
{
	json_t *call;
	size_t i;
	char *have;

	json_array_foreach(calls_of(integs, ev), i, call) {
		if (!api_enrich_applies(call, ev->type))
			continue;
		if ((have = db_enriched_get(runs, db, ev->id,
		    json_string_value(json_object_get(call, "name")))) == NULL)
			return 1;
		free(have);
	}
	return 0;
}

json_t *
enrich_results(const struct integ_set *integs, MDB_txn *runs,
    struct db *db, const struct event_rec *ev)
{
	json_t *call, *out = NULL, *v;
	const char *name;
	size_t i;
	char *have;

	json_array_foreach(calls_of(integs, ev), i, call) {
		if (!api_enrich_applies(call, ev->type))
			continue;
		name = json_string_value(json_object_get(call, "name"));
		if ((have = db_enriched_get(runs, db, ev->id, name)) == NULL)
			continue;
		v = json_loads(have, JSON_DECODE_ANY, NULL);
		free(have);
		if (out == NULL)
			out = json_object();
		json_object_set_new(out, name, v != NULL ? v : json_null());
	}
	return out;
}

int
enrich_start(struct job *j)
{
	char exe[PATH_MAX + 16];
	char *argv[] = { "hookpipe", "enrich", j->run_id, NULL };

	/* The CLI of this installation; the run id is no secret, and the
	 * child finds the credential in the database. */
	program_path("hookpipe", exe, sizeof(exe));
	return exec_spawn(j, exe, argv, environ);
}

void
enrich_done(struct job *j)
{
	char line[sizeof(j->error)];
	const char *p, *end, *start;

	if (j->ok || j->timed_out)
		return;
	/* The child's last line says why. */
	line[0] = '\0';
	if (j->out.len > 0) {
		end = j->out.data + j->out.len;
		while (end > j->out.data && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		for (start = end; start > j->out.data && start[-1] != '\n';
		    start--)
			;
		p = start;
		if (end - p > 10 && strncmp(p, "hookpipe: ", 10) == 0)
			p += 10;
		snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
	}
	if (j->exit_code == ENRICH_REFUSED)
		j->no_retry = 1;
	if (line[0] != '\0')
		snprintf(j->error, sizeof(j->error), "%s", line);
	else
		snprintf(j->error, sizeof(j->error), "hookpipe enrich: exit "
		    "code %lld", (long long)j->exit_code);
}
