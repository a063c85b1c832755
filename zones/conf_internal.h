/*
 * conf_internal.h -- links between the schema tables and the loader.
 * Not for use outside zones/conf*.c and the tests.
 */
#ifndef DZ_ZONES_CONF_INTERNAL_H
#define DZ_ZONES_CONF_INTERNAL_H

#include "zones/conf.h"
#include "zones/schema.h"

/* Checks of one zone (names, references, hosts in the zone, defaults). */
void dz_config_zone_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark,
			  const char *key);

/* Checks across the whole file (duplicate zones, default token, default policy). */
void dz_config_root_check(dz_cfg_parser_t *parser, void *object, dz_cfg_mark_t mark,
			  const char *key);

/* Schema of one policy (for tests). */
const dz_cfg_schema_t *dz_config_policy_schema(void);

#endif
