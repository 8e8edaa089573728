// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* An experiment, not a product: Sluice's hooks built without the optional
 * stages (sets, bans, rules) in the stage table, to show that switching
 * them off at load time (sl_feat.stages_off) costs nothing: bench_xdp
 * `stages` compares this program's translated instructions and ns/packet
 * with Sluice loaded with those stages off. */
#define SL_STAGES(X) X(parse, 1) X(malformed, 1) X(policy, 1)
#include "../bpf/sluice_xdp.bpf.c"
