/*
 * rv.h -- PKCS#11 return values (CK_RV) as names and danezone results.
 *
 * Pure lookups, safe from any thread.  The parameter is a CK_RV; it is
 * declared unsigned long (what CK_RV is) so this header needs no PKCS#11
 * header.
 */
#ifndef DZ_HSM_RV_H
#define DZ_HSM_RV_H

#include <stdbool.h>

#include "common/result.h"

/* Name of the return value ("CKR_PIN_INCORRECT"), or "CKR_0x..." for unknown codes. */
const char *dz_hsm_rv_name(unsigned long rv, char buf[32]);

/*
 * The danezone result for a failed PKCS#11 call: CKR_DEVICE_MEMORY is
 * DZ_EHSM_FULL, PIN failures DZ_EHSM_PIN, closed sessions and removed tokens
 * DZ_EHSM_SESSION, missing mechanisms and curves DZ_EHSM_MECHANISM, invalid
 * key handles DZ_EHSM_KEY, CKR_HOST_MEMORY DZ_ENOMEM, the rest DZ_EHSM.
 * CKR_OK is DZ_OK.
 */
dz_result_t dz_hsm_rv_result(unsigned long rv);

/*
 * Whether the failure means the session, login or module state was lost,
 * so that reopening the sessions and logging in again may help.
 */
bool dz_hsm_rv_session_lost(unsigned long rv);

/* Whether the failure means object handles are stale, so a new key index may help. */
bool dz_hsm_rv_handle_stale(unsigned long rv);

#endif
