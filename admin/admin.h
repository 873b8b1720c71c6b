/*
 * hookpipe, the admin CLI: one file per command group, shared option
 * parsing and output helpers in main.c and out.c.
 *
 * Exit codes: 0 success, 1 a failed operation (not found, limit reached,
 * remote error), 2 a usage error. Every error is one line on stderr that
 * starts with "hookpipe: ".
 */
#ifndef HP_ADMIN_H
#define HP_ADMIN_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <lmdb.h>

#include "config.h"
#include "db.h"
#include "integ.h"
#include "runjson.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

struct ctx {
	struct config	 cfg;
	struct db	 db;
	struct integ_set integs;
	int		 db_open;
	int		 integs_loaded;
	const char	*ws;		/* --workspace, or HOOKPIPE_WORKSPACE */
	int		 json;		/* --json */
	int		 home_named;	/* by --home or HOOKPIPE_HOME */
	char		 path[64];	/* "sub create", for messages */
};

struct cmd;
typedef int (*cmd_fn)(struct ctx *, const struct cmd *, int, char **);

/*
 * A command: a leaf with fn, or a group with a table of subcommands.
 * nargs is the exact number of positional arguments a leaf takes, or -N
 * for up to N (the command checks what it got).
 */
struct cmd {
	const char	*name;
	cmd_fn		 fn;
	const char	*usage;		/* after "hookpipe " */
	const char	*help;		/* a paragraph for --help, or NULL */
	int		 nargs;
	const char	*argname;	/* "NAME", for "missing NAME" */
	const struct cmd *sub;		/* group: subcommands, NULL-terminated */
};

/* ctx.c: option parsing and the state every command opens. */
enum opt_kind { OPT_FLAG, OPT_STR, OPT_LIST };

#define STRLIST_MAX	32

struct strlist {
	const char	*v[STRLIST_MAX];
	int		 n;
};

struct opt {
	const char	*name;		/* long name, without "--" */
	enum opt_kind	 kind;
	void		*dst;		/* int *, const char **, struct strlist * */
};

#define OPT_CONTINUE	(-1)
/*
 * Parse a leaf's options and positionals (argv[0] is its name). Returns
 * OPT_CONTINUE, or the exit code to return at once: 0 after --help,
 * EXIT_USAGE after a message.
 */
int	opt_parse(struct ctx *, const struct cmd *, int argc, char **argv,
	    const struct opt *, char ***args);
/*
 * ctx.c: create the state directory if it is not there, saying so;
 * refuse when it was not named and the stack runs with another. 0 or
 * EXIT_FAIL.
 */
int	home_prepare(struct ctx *);
/* ctx.c: open the database and load the integrations; 0 or EXIT_FAIL. */
int	ctx_open(struct ctx *, int warn_integrations);
void	ctx_close(struct ctx *);
/*
 * Read snapshots of every part at once, for commands that show objects
 * made of several (an event, its runs, its subscription's name, whether
 * the router passed it). rtx_begin: 0 or EXIT_FAIL with a message.
 */
struct rtx {
	MDB_txn		*c, *e, *r, *s;		/* config, events, runs, spool */
	uint64_t	 cursor;		/* the router's, in the log */
};
int	rtx_begin(struct ctx *, struct rtx *);
void	rtx_end(struct rtx *);
/* Transactions of one part of the database (DB_CONFIG, DB_EVENTS ...). */
MDB_txn *txn_read(struct ctx *, enum db_part);
MDB_txn *txn_write(struct ctx *, enum db_part);
/* A subscription's event count and last delivery (the events part). */
void	sub_stats(struct ctx *, const char *id, int64_t *n, int64_t *last);
/* Commit; 0 or EXIT_FAIL with a message. */
int	txn_commit(MDB_txn *);

/* out.c: messages. */
void	errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	usage_error(const struct ctx *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	db_error(int rc);
void	print_usage(FILE *, const struct cmd *);

/* out.c: tables. */
struct table {
	int	  ncol;
	int	  color_col;	/* 1 + the column of status words, or 0 */
	char	**cells;	/* row-major, the header first */
	size_t	  ncells;
	size_t	  cap;
};

void	table_init(struct table *, int ncol, ...);
void	table_row(struct table *, ...);
void	table_print(const struct table *, FILE *);
/* The table, or `none` when it has no rows. */
void	table_print_or(const struct table *, FILE *, const char *none);
/* Color a column of status words (on a terminal without NO_COLOR). */
void	table_color(struct table *, int col);
int	color_on(FILE *);
void	print_status(FILE *, const char *word);
void	table_free(struct table *);

/* out.c: values. */
int	json_print(json_t *);		/* steals the reference */
json_t *json_event_list(const char *events);	/* "a,b" -> ["a","b"] */
/* "3m ago", "in 25s" ("-" for 0): for tables. */
const char *time_str(int64_t us, char *buf, size_t len);
/* An RFC 3339 UTC time (json_time's) in microseconds; 0 when not one. */
int64_t	rfc3339_us(const char *);
/* "2026-01-02T03:04:05Z (3m ago)": for a field of its own. */
const char *time_long(int64_t us, char *buf, size_t len);
void	print_pretty(FILE *, const void *, size_t);

/*
 * out.c: text from outside (the database, a peer) for people. Control
 * characters are written as visible escapes (\x1b, \u009b): a value on
 * one line (NULL prints as "-"), a block of lines (run output), a
 * "label: value" line, a JSON value (0, or -1 when it cannot be encoded)
 * and a malloc'd copy for building a line.
 */
void	print_safe(FILE *, const char *);
void	print_block(FILE *, const void *, size_t);
void	print_field(FILE *, const char *label, int width, const char *value);
int	print_json(FILE *, json_t *);	/* indented, no newline after */
int	json_line(FILE *, json_t *);	/* compact, one line */
char   *str_safe(const char *);
/* Lines of output, indented: the last max (0: all); returns how many
 * were left out. */
int	print_lines_of(FILE *, const char *indent, const void *, size_t,
	    int max);

/*
 * secret_in.c: a secret option. --NAME VALUE shows the value in ps and
 * the shell's history, so every secret is also read from a file
 * (--NAME-file F), from stdin (--NAME -) or from the environment
 * (--NAME-env VAR). SECRET_OPTS() adds the three options to a command's
 * table; secret_read() then reads the one given, if any.
 */
struct secret_opt {
	const char	*name;		/* "secret", without "--" */
	const char	*arg;		/* --NAME VALUE, or "-" */
	const char	*file;		/* --NAME-file F */
	const char	*env;		/* --NAME-env VAR */
	int		 set;		/* a value was given and read */
	size_t		 len;
	char		 value[SECRET_MAX + 1];
};

#define SECRET_OPTS(so, optname)					\
	{ optname, OPT_STR, &(so)->arg },				\
	{ optname "-file", OPT_STR, &(so)->file },			\
	{ optname "-env", OPT_STR, &(so)->env }

/* 0 (so->set says whether a value came), or an exit code after a message. */
int	secret_read(struct ctx *, struct secret_opt *);
void	secret_clear(struct secret_opt *);
/*
 * The content of a file (or stdin, or a variable) as a secret: one
 * trailing newline dropped, then 1 to SECRET_MAX bytes of printable text
 * into out (NUL-terminated, SECRET_MAX + 1 bytes). 0, or -1 with why
 * ("is empty", "has a NUL byte at offset 3").
 */
int	secret_parse(const void *, size_t, char *out, size_t *outlen,
	    char *why, size_t whylen);
/* The words of --help about the options of secret NAME. */
#define SECRET_HELP(optname)						\
	" --" optname " VALUE is visible to other users in ps and stays in "	\
	"the shell's history: prefer --" optname "-file F, --" optname " - "	\
	"(stdin) or --" optname "-env VAR."

/* Commands, with the helpers that more than one file uses. */
extern const struct cmd integration_cmds[];
extern const struct cmd sub_cmds[];
extern const struct cmd workflow_cmds[];
extern const struct cmd event_cmds[];
extern const struct cmd run_cmds[];
/* cmd_cred.c, once the Makefile links it: cred, oauth, key. */
extern const struct cmd cred_cmds[];
extern const struct cmd oauth_cmds[];
extern const struct cmd key_cmds[];
extern const struct cmd spool_cmds[];
extern const struct cmd config_cmds[];
/* cmd_cluster.c: cluster mode on NATS JetStream. */
extern const struct cmd cluster_cmds[];
/*
 * Cluster mode: the other hosts' runs added to runs (this host's), each
 * with its "host", newest first, at most lim (0, or -1 when NATS was
 * not asked: a warning said so), those that match q (the options of
 * `runs`, NULL or 0 for none); the run id (or prefix) of another host
 * (NULL: none has it).
 */
struct runs_ask {
	const char	*workflow, *status, *event, *limit;
	int		 test;
	json_t		*claims;	/* see event_runs_cluster */
};
int	cluster_runs(struct ctx *, json_t *runs, const struct runs_ask *q,
	    int64_t lim);
json_t	*cluster_run(struct ctx *, const char *id);
/*
 * The same asks on a connection the caller holds (workflow test asks
 * until the run ends): a run another host has, as `run show --json`
 * prints it there, with its "host"; the newest test run of workflow
 * that another host made at since (microseconds) or later, as `runs
 * --json` prints it there, with its "host". NULL: none.
 */
struct cluster;
json_t	*cluster_run_on(struct ctx *, struct cluster *, const char *id);
json_t	*cluster_test_run(struct ctx *, struct cluster *,
	    const char *workflow, int64_t since);

int	cmd_events(struct ctx *, const struct cmd *, int, char **);
int	cmd_runs(struct ctx *, const struct cmd *, int, char **);
int	cmd_replay(struct ctx *, const struct cmd *, int, char **);
int	cmd_send(struct ctx *, const struct cmd *, int, char **);
int	cmd_tail(struct ctx *, const struct cmd *, int, char **);
int	cmd_doctor(struct ctx *, const struct cmd *, int, char **);
int	cmd_backup(struct ctx *, const struct cmd *, int, char **);
int	cmd_restore(struct ctx *, const struct cmd *, int, char **);
int	cmd_console(struct ctx *, const struct cmd *, int, char **);
/* cmd_console.c: http://HOST:PORT of HOOKPIPE_ADMIN_LISTEN. */
void	console_base_url(const struct config *, char *out, size_t len);

/* Find a subscription by id or name in the workspace; 0 or EXIT_FAIL. */
int	sub_lookup(struct ctx *, MDB_txn *, const char *name_or_id,
	    struct sub_rec *);
void	sub_callback_url(const struct ctx *, const char *id, char *out,
	    size_t len);
/*
 * cmd_keys.c: fetch the JWKS of a jwt integration's jwks_url into the
 * cache; with must, a failure (or no URL) fails, else it is a warning.
 */
int	sub_keys_fetch(struct ctx *, const struct integ *, int must);
int	sub_refresh_keys(struct ctx *, const struct cmd *, int, char **);
/* Check an --events value and normalise it into out ("*" or "a,b"). */
int	events_parse(struct ctx *, const char *arg, char *out, size_t len);
/*
 * The objects as --json prints them, shared with the admin stage's API:
 * a subscription (sub_json; with its event count and last event as in
 * `sub list` or, with its secrets masked or revealed, as in `sub show`),
 * a workflow, an integration, a credential; and (cmd_events.c) a run
 * (with its attempts under "history" when history and t are given), an
 * event (headers, payload and runs when full), an attempt, a refused
 * delivery.
 */
json_t *sub_json(struct ctx *, MDB_txn *, const struct sub_rec *);
json_t *sub_list_json(struct ctx *, MDB_txn *, const struct sub_rec *);
json_t *sub_show_json(struct ctx *, MDB_txn *, const struct sub_rec *,
	    int reveal);
json_t *wf_json(struct ctx *, MDB_txn *, const struct wf_rec *);
json_t *integ_json(const struct integ *);
json_t *cred_json(struct ctx *, const struct cred_rec *);
json_t *run_json(struct ctx *, struct rtx *, const struct run_rec *,
	    int history);
json_t *event_json(struct ctx *, struct rtx *, const struct event_rec *,
	    int full);
/* A run's record from its JSON (run_json's, maybe from another host). */
void	run_rec_of_json(json_t *, struct run_rec *);
/*
 * Cluster mode: every host's runs in an event's JSON (event_json's);
 * claims (NULL: none), the runs the event's triggers make, as
 * events_run_ids gives them: one no host answers for and of which there
 * is no copy is shown from its claim, when a host made it.
 */
void	event_runs_cluster(struct ctx *, json_t *, json_t *claims);
/* Those runs of the events event_ids (ids this host has; others are
 * passed over), [{id, workflow, event_id, created_at}]. */
json_t	*events_run_ids(struct ctx *, json_t *event_ids);
json_t *rejected_json(const struct rejected_rec *, const char *sub_name);
/* Wake the dispatcher so new runs start now; best effort. */
void	dispatcher_wake(struct ctx *, const char *run_id);

#endif
