/*
 * Ids by a prefix: an event or a run named by its first characters, as
 * git names a commit. The tables keep their keys sorted, so the ids that
 * start with a prefix are next to each other: one range lookup finds the
 * first, the next key says whether it is the only one.
 */
#include <ctype.h>
#include <string.h>

#include "db_impl.h"

/*
 * The prefix in the canonical form of an id (lower case, dashes after
 * the 8th, 12th, 16th and 20th digit) and its hex digits; the dashes are
 * optional, and only there. The number of digits, or -1.
 */
static int
prefix_canon(const char *p, char canon[UUID_LEN + 1], unsigned char dig[32])
{
	int n = 0, i = 0;

	for (; *p != '\0'; p++) {
		if (*p == '-' && (i == 8 || i == 13 || i == 18 || i == 23) &&
		    canon[i - 1] != '-') {
			canon[i++] = '-';
			continue;
		}
		if (!isxdigit((unsigned char)*p) || n == 32)
			return -1;
		if (i == 8 || i == 13 || i == 18 || i == 23)
			canon[i++] = '-';
		canon[i++] = (char)tolower((unsigned char)*p);
		dig[n++] = (unsigned char)(isdigit((unsigned char)*p) ?
		    *p - '0' : tolower((unsigned char)*p) - 'a' + 10);
	}
	canon[i] = '\0';
	return n;
}

/* The id of an event index key (16 bytes). */
static void
id_of_key(const unsigned char *k, char out[UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i, j = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[k[i] >> 4];
		out[j++] = hex[k[i] & 15];
	}
	out[j] = '\0';
}

/* Does the key start with the digits (binary keys: two a byte)? */
static int
key_matches(const MDB_val *k, int binary, const char *canon,
    const unsigned char *dig, int n)
{
	const unsigned char *p = k->mv_data;
	int i;

	if (!binary)
		return k->mv_size >= strlen(canon) &&
		    memcmp(p, canon, strlen(canon)) == 0;
	if (k->mv_size != 16)
		return 0;
	for (i = 0; i < n; i++)
		if (((i % 2 == 0) ? p[i / 2] >> 4 : p[i / 2] & 15) != dig[i])
			return 0;
	return 1;
}

int
db_id_complete(MDB_txn *txn, struct db *db, enum db_id_kind kind,
    const char *prefix, char out[UUID_LEN + 1])
{
	unsigned char dig[32], start[16];
	char canon[UUID_LEN + 1];
	int n, i, binary = kind == DB_ID_EVENT, rc, found = 0;
	MDB_cursor *c;
	MDB_val k, v;

	if (kind == DB_ID_EVENT)
		DB_CHECK(txn, db, DB_EVENTS);
	else
		DB_CHECK(txn, db, DB_RUNS);
	if ((n = prefix_canon(prefix, canon, dig)) < DB_ID_PREFIX_MIN)
		return MDB_NOTFOUND;
	if (n == 32) {
		str_copy(out, canon, UUID_LEN + 1);
		return 0;
	}
	if (binary) {
		memset(start, 0, sizeof(start));
		for (i = 0; i < n; i++)
			start[i / 2] |= (unsigned char)(i % 2 == 0 ?
			    dig[i] << 4 : dig[i]);
		k.mv_data = start;
		k.mv_size = sizeof(start);
	} else {
		k.mv_data = canon;
		k.mv_size = strlen(canon);
	}
	if ((rc = mdb_cursor_open(txn, binary ? db->ids : db->runs, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 &&
	    found < 2; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!key_matches(&k, binary, canon, dig, n))
			break;
		if (found++ > 0)
			continue;
		if (binary)
			id_of_key(k.mv_data, out);
		else if (k.mv_size == UUID_LEN) {
			memcpy(out, k.mv_data, UUID_LEN);
			out[UUID_LEN] = '\0';
		} else
			found--;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return found == 0 ? MDB_NOTFOUND : found == 1 ? 0 : DB_EAMBIGUOUS;
}
