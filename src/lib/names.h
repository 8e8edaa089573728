/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* names: printable names of the ABI enums, the one table the CLI, JSON and
 * metrics use. */
#ifndef SL_NAMES_H
#define SL_NAMES_H

const char *sl_reason_name(unsigned int reason);
const char *sl_reason_help(unsigned int reason);
const char *sl_action_name(unsigned int action);
/* enum sl_hook_id: "xdp", "tc-in", "tc-out", "unknown" (counts an upgrade
 * carried from a layout without hooks). */
const char *sl_hook_name(unsigned int hook);
const char *sl_dir_name(unsigned int dir);
const char *sl_set_kind_name(unsigned int kind);
const char *sl_rule_action_name(unsigned int action);
/* enum sl_ct_state: "syn-sent", ..., "unreplied", "assured",
 * "echo-request", "echo-replied"; sl_ct_state_parse: -1 when unknown. */
const char *sl_ct_state_name(unsigned int state);
int sl_ct_state_parse(const char *name);
/* enum sl_ct_pkt: "untracked", "new", "established", "related",
 * "invalid". */
const char *sl_ct_pkt_name(unsigned int ct);

#endif
