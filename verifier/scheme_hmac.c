/*
 * Signatures over a template of the request, configured by the
 * definition's params (checked and compiled at load, integ_scheme.c):
 *
 *	hmac		HMAC-SHA1/256/512 of the template under the secret
 *			(raw, or decoded from base64 or hex); with "mac":
 *			"hash", a digest of a template that holds {secret}
 *	ed25519		Ed25519, the secret being the sender's public key
 *	ecdsa-p256	ECDSA P-256 with SHA-256 (DER, or raw r||s)
 *
 * The signature comes from a header, a query parameter or a body field
 * (or the first of several that is there), as one value, a list, or a
 * key=value list whose signature entries may repeat; any value that
 * verifies under any of the subscription's secrets passes. An optional
 * timestamp (from its own place or the key=value list) must be within
 * the tolerance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "verify.h"

#define CANDS_MAX	16
#define SIG_MAX		512
#define KEY_MAX		1024	/* a secret as stored is at most 512 */

struct cand {
	const char	*p;
	size_t		 n;
};

/* Skip spaces around [*p, *p + *n). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static void
add_cand(struct cand *c, int *nc, const struct scheme_conf *sc,
    const char *p, size_t n, int *prefix_missing)
{
	size_t pl = strlen(sc->prefix);

	trim(&p, &n);
	if (n < pl || memcmp(p, sc->prefix, pl) != 0) {
		*prefix_missing = 1;
		return;
	}
	if (*nc < CANDS_MAX && n > pl)
		c[(*nc)++] = (struct cand){ p + pl, n - pl };
}

/*
 * Split one signature value as the format says into candidates, and find
 * the timestamp of a key=value list (the first one) in ts.
 */
static void
split_value(const struct scheme_conf *sc, const char *v, size_t vn,
    struct cand *c, int *nc, char *ts, size_t tslen, int *prefix_missing)
{
	size_t sl = strlen(sc->separator);
	const char *p = v, *end = v + vn;

	if (sc->format == FMT_PLAIN) {
		add_cand(c, nc, sc, v, vn, prefix_missing);
		return;
	}
	while (p <= end) {
		const char *sep = sl ? memmem(p, (size_t)(end - p),
		    sc->separator, sl) : NULL;
		size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
		const char *e = p, *eq;
		size_t en = n;

		trim(&e, &en);
		if (sc->format == FMT_LIST) {
			if (en > 0)
				add_cand(c, nc, sc, e, en, prefix_missing);
		} else if ((eq = memchr(e, '=', en)) != NULL) {
			size_t kl = (size_t)(eq - e);
			const char *val = eq + 1;
			size_t vl = en - kl - 1;

			trim(&val, &vl);
			if (kl == strlen(sc->kv_signature) && memcmp(e,
			    sc->kv_signature, kl) == 0)
				add_cand(c, nc, sc, val, vl, prefix_missing);
			else if (sc->ts_in_kv && ts[0] == '\0' && kl ==
			    strlen(sc->kv_timestamp) && memcmp(e,
			    sc->kv_timestamp, kl) == 0 && vl < tslen) {
				memcpy(ts, val, vl);
				ts[vl] = '\0';
			}
		}
		if (sep == NULL)
			break;
		p = sep + sl;
	}
}

/* "X-Sig", "query parameter sig", "body field /a/b" for messages. */
static const char *
src_name(const char *label, char *buf, size_t len)
{
	if (strncmp(label, "header:", 7) == 0)
		snprintf(buf, len, "%s", label + 7);
	else if (strncmp(label, "query:", 6) == 0)
		snprintf(buf, len, "query parameter %s", label + 6);
	else
		snprintf(buf, len, "body field %s", label + 5);
	return buf;
}

static int
decode_sig(enum sig_encoding enc, const struct cand *c, unsigned char *out,
    size_t cap)
{
	if (enc == ENC_HEX)
		return hex_decode(c->p, c->n, out, cap);
	return b64url_decode(c->p, c->n, out, cap);
}

/* Check the candidates against one secret; 1 when one verifies. */
static int
check_secret(struct vctx *c, const struct scheme_conf *sc,
    const unsigned char *secret, size_t secretlen, const char *ts,
    const struct cand *cands, int ncand, char *why, size_t whylen,
    int *broken)
{
	unsigned char key[KEY_MAX], mac[64], sig[SIG_MAX], der[SIG_MAX];
	struct iov parts[TPL_PARTS_MAX];
	EVP_PKEY *pk = NULL;
	char kwhy[256];
	int n, kl = 0, maclen = -1, i, ok = 0;

	if (sc->id == SCHEME_HMAC) {
		if ((kl = vctx_secret(sc->secret_encoding, secret, secretlen,
		    key, sizeof(key))) < 0) {
			*broken = 1;	/* refused by sub create; an old one */
			return 0;
		}
	} else if ((pk = pubkey_parse((const char *)secret, secretlen,
	    sc->id == SCHEME_ED25519 ? PKEY_ED25519 : PKEY_P256, kwhy,
	    sizeof(kwhy))) == NULL) {
		*broken = 1;
		return 0;
	}
	if ((n = vctx_expand(c, &sc->signed_tpl, ts, key, (size_t)kl, parts,
	    why, whylen)) < 0)
		goto out;
	if (sc->id == SCHEME_HMAC)
		maclen = sc->hash ? digest_parts(sc->alg, parts, n, mac) :
		    hmac_parts(sc->alg, key, (size_t)kl, parts, n, mac);
	for (i = 0; i < ncand && !ok; i++) {
		int sl = decode_sig(sc->encoding, &cands[i], sig, sizeof(sig));

		if (sl <= 0)
			continue;
		if (sc->id == SCHEME_HMAC)
			ok = maclen > 0 && sl == maclen && ct_equal(mac, sig,
			    (size_t)sl);
		else if (sc->id == SCHEME_ECDSA && sc->ecdsa_raw) {
			int dl = ecdsa_raw_to_der(sig, (size_t)sl, der,
			    sizeof(der));

			ok = dl > 0 && sl == 64 && pkey_verify(pk, der,
			    (size_t)dl, parts, n);
		} else
			ok = pkey_verify(pk, sig, (size_t)sl, parts, n);
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	EVP_PKEY_free(pk);
	return n < 0 ? -1 : ok;
}

static enum vresult
verify_signed(const struct vreq *r, char *why, size_t whylen)
{
	const struct scheme_conf *sc = &r->ig->sc;
	struct cand cands[CANDS_MAX];
	struct vctx c;
	const char *v, *where = NULL, *tsv = NULL;
	char ts[64] = "", secs[32], name[300], tsname[300];
	size_t vn;
	int i, ncand = 0, nvals = 0, prefix_missing = 0, broken = 0, rc;
	int64_t t;
	enum vresult res = V_SIGNATURE;

	vctx_init(&c, r);
	for (i = 0; i < sc->nsig; i++) {
		if ((v = vctx_source(&c, &sc->sig[i], &vn)) == NULL)
			continue;
		if (where == NULL)
			where = sc->sig[i].label;
		nvals++;
		split_value(sc, v, vn, cands, &ncand, ts, sizeof(ts),
		    &prefix_missing);
	}
	if (nvals == 0) {
		vctx_missing(&sc->sig[0], why, whylen);
		if (sc->nsig > 1)
			snprintf(why + strlen(why), whylen - strlen(why),
			    " (nor %s)", sc->sig[1].label);
		res = V_MISSING;
		goto out;
	}
	where = src_name(where, name, sizeof(name));
	if (ncand == 0) {
		if (sc->format == FMT_KV)
			snprintf(why, whylen, "%s has no %s= signature", where,
			    sc->kv_signature);
		else
			snprintf(why, whylen, "%s does not match%s%s%s", where,
			    prefix_missing ? " (expected it to start with " :
			    "", prefix_missing ? sc->prefix : "",
			    prefix_missing ? ")" : "");
		res = sc->format == FMT_KV ? V_MISSING : V_SIGNATURE;
		goto out;
	}
	if (sc->has_ts) {
		if (sc->ts_in_kv) {
			if (ts[0] == '\0') {
				snprintf(why, whylen, "%s has no %s= timestamp",
				    where, sc->kv_timestamp);
				res = V_MISSING;
				goto out;
			}
			tsv = ts;
		} else if ((tsv = vctx_source(&c, &sc->ts, &vn)) == NULL) {
			vctx_missing(&sc->ts, why, whylen);
			res = V_MISSING;
			goto out;
		}
		if (vctx_ts_seconds(sc->ts_format, tsv, &t) == -1) {
			snprintf(why, whylen, "the timestamp in %s is not %s",
			    sc->ts_in_kv ? where : src_name(sc->ts.label,
			    tsname, sizeof(tsname)), sc->ts_format ==
			    TS_RFC3339 ? "an RFC 3339 date" : sc->ts_format ==
			    TS_UNIX_MS ? "a number of milliseconds" :
			    "a number of seconds");
			res = V_TIMESTAMP;
			goto out;
		}
		snprintf(secs, sizeof(secs), "%lld", (long long)t);
		if ((res = check_timestamp(r, sc->ts_in_kv ? where :
		    src_name(sc->ts.label, tsname, sizeof(tsname)), secs, why,
		    whylen)) != V_OK)
			goto out;
		res = V_SIGNATURE;
	}
	for (i = 0; i < r->nsecrets; i++) {
		rc = check_secret(&c, sc, r->secret[i], r->secret_len[i], tsv,
		    cands, ncand, why, whylen, &broken);
		if (rc == 1) {
			res = V_OK;
			goto out;
		}
		if (rc == -1) {
			res = V_MISSING;
			goto out;
		}
	}
	if (broken && r->nsecrets == 1)
		snprintf(why, whylen, "the subscription's secret does not fit "
		    "the %s scheme (set another with: hookpipe sub edit "
		    "--secret)", r->ig->scheme);
	else if (sc->format == FMT_KV)
		snprintf(why, whylen, "no %s signature in %s matches",
		    sc->kv_signature, where);
	else
		snprintf(why, whylen, "%s does not match", where);
out:
	vctx_free(&c);
	return res;
}

enum vresult
verify_hmac(const struct vreq *r, char *why, size_t whylen)
{
	return verify_signed(r, why, whylen);
}

enum vresult
verify_ed25519(const struct vreq *r, char *why, size_t whylen)
{
	return verify_signed(r, why, whylen);
}

enum vresult
verify_ecdsa(const struct vreq *r, char *why, size_t whylen)
{
	return verify_signed(r, why, whylen);
}
