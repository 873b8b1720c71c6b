/*
 * A scratch HOOKPIPE_HOME with every part of the database open, for the
 * db_* unit tests; and records to fill it with.
 */
#ifndef HP_DBT_H
#define HP_DBT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static char dbt_dir[64];

static inline int
dbt_open(struct db *db, struct config *cfg)
{
	char err[512];
	int rc;

	if (dbt_dir[0] == '\0') {
		strcpy(dbt_dir, "/tmp/hpdXXXXXX");
		if (mkdtemp(dbt_dir) == NULL)
			return -1;
	}
	setenv("HOOKPIPE_HOME", dbt_dir, 1);
	if (config_load(cfg, err, sizeof(err)) != 0 ||
	    config_make_dirs(cfg, err, sizeof(err)) != 0)
		return -1;
	if ((rc = db_open(db, cfg, DB_ALL, 0, err, sizeof(err))) != 0)
		printf("# db_open: %s\n", err);
	return rc;
}

static inline void
dbt_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dbt_dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dbt_dir);
}

static inline void
dbt_event(struct event_rec *e, const char *sub, const char *type,
    int64_t at)
{
	memset(e, 0, sizeof(*e));
	uuid7(e->id);
	strcpy(e->sub, sub);
	strcpy(e->workspace, "default");
	strcpy(e->integration, "openai");
	strcpy(e->type, type);
	snprintf(e->delivery_id, sizeof(e->delivery_id), "msg_%s", e->id);
	e->state = EV_STORED;
	e->received_at = at;
	e->payload = (unsigned char *)"{\"a\":1}";
	e->payload_len = 7;
}

static inline int
dbt_count(void *arg, struct event_rec *e)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

#endif
