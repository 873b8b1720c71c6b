/*
 * Small helpers shared by every stage: clocks, names, growable buffers.
 */
#ifndef HP_UTIL_H
#define HP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define NAME_MAX_LEN	64	/* workspace, subscription, workflow names */
#define UUID_LEN	36

int64_t	now_us(void);		/* wall clock, microseconds since the epoch */
int64_t	mono_ms(void);		/* monotonic clock, milliseconds */
/* A descriptor a thread posts to so that a stage's poll wakes (an
 * eventfd; -1 with errno); wake_take: 1 when posted since the last. */
int	wake_open(void);
void	wake_post(int fd);
int	wake_take(int fd);

/* "2026-11-23T09:32:44.123456Z"; buf needs 32 bytes. */
char   *fmt_rfc3339(int64_t us, char *buf, size_t len);

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63}: names that are safe in keys and paths. */
int	name_valid(const char *s);
int	uuid_valid(const char *s);

/* Growable byte buffer. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

int	buf_reserve(struct buf *, size_t extra);
int	buf_append(struct buf *, const void *, size_t);
int	buf_appendf(struct buf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_reset(struct buf *);
void	buf_free(struct buf *);

/* Parse a whole decimal number in [min, max]; 0 on success. */
int	parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Big-endian 64-bit integers make LMDB keys sort by time. */
void	put_be64(unsigned char *p, uint64_t v);
uint64_t get_be64(const unsigned char *p);

/* strlcpy: returns strlen(src); truncation when >= size. */
size_t	str_copy(char *dst, const char *src, size_t size);
/* A program of the installation (the CLI, hookpipectl), for a stage. */
void	program_path(const char *name, char *out, size_t len);

#endif
