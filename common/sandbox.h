/*
 * Least privilege: once a stage has opened what it needs, Landlock (where
 * the kernel has it) limits its file system access to HOOKPIPE_HOME and
 * read-only integration definitions. HOOKPIPE_SANDBOX=0 or --no-sandbox
 * turns it off. The dispatcher, which runs users' commands, is not
 * confined (its children would be too); every stage sets no_new_privs.
 */
#ifndef HP_SANDBOX_H
#define HP_SANDBOX_H

#include "config.h"

/* 1 confined, 0 not available or turned off. */
int	sandbox_confine(const struct config *);

#endif
