/*
 * cmd_key_state.h -- `danezone key` commands on a zone's key state (see
 * cmd_key_state.c), dispatched from signer/cmd_key.c.  Each takes argv with
 * argv[0] the command name and returns the exit status.
 */
#ifndef DZ_SIGNER_CMD_KEY_STATE_H
#define DZ_SIGNER_CMD_KEY_STATE_H

/* ds-seen and ds-gone (`name` selects which). */
int dz_cmd_key_ds_observed(int argc, char **argv, const char *name);
int dz_cmd_key_ds_check(int argc, char **argv, const char *name);
int dz_cmd_key_rollover(int argc, char **argv, const char *name);
int dz_cmd_key_clock_ack(int argc, char **argv, const char *name);
int dz_cmd_key_step(int argc, char **argv, const char *name);
int dz_cmd_key_backup_done(int argc, char **argv, const char *name);

#endif
