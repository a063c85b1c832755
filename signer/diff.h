/*
 * diff.h -- a file of changes to the unsigned data of a zone.
 *
 * One change per line: "+" (add) or "-" (delete), white space, then one
 * record in zone file syntax with owner, TTL, optional class, type and
 * RDATA on that line.  Relative owners are relative to the current
 * $ORIGIN (initially the zone's); "$ORIGIN NAME" and "$TTL SECONDS" lines
 * work as in zone files; blank lines and lines starting with ";" are
 * skipped.  Example:
 *
 *   - _25._tcp.mail 3600 IN TLSA 3 1 1 0011...
 *   + _25._tcp.mail 3600 IN TLSA 3 1 1 aabb...
 *
 * Deletions match owner, type and RDATA; their TTL is ignored.
 */
#ifndef DZ_SIGNER_DIFF_H
#define DZ_SIGNER_DIFF_H

#include "common/error.h"
#include "signer/load.h"

/*
 * Apply the changes of `path` to the loader's zone in file order.  Syntax
 * errors stop at once (DZ_ESYNTAX naming file and line); problems with a
 * record are counted by the loader, which dz_loader_finish() reports.
 */
dz_result_t dz_diff_apply_file(dz_loader_t *loader, const char *path, dz_error_t *err);

#endif
