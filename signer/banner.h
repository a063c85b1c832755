/*
 * banner.h -- versions of danezone and the libraries it runs with.
 */
#ifndef DZ_SIGNER_BANNER_H
#define DZ_SIGNER_BANNER_H

#include <stddef.h>

/*
 * Write "danezone X (ldns Y, OpenSSL Z, libyaml W)" into buf.  The library
 * versions are those linked at run time, with the compile-time version added
 * where the two differ.
 */
const char *dz_banner(char *buf, size_t size);

#endif
