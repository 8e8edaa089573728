/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* config_limits: the `limits:` section of the config file (capacities of
 * the state; docs/config.md). */
#ifndef SL_CONFIG_LIMITS_H
#define SL_CONFIG_LIMITS_H

#include <stdio.h>
#include <yaml.h>

#include "sluice.h"

/* Parses the `limits:` mapping n of doc into *lim. -EINVAL with the reason
 * in msg and the offending node in *at (for its position). */
int sl_limits_parse(yaml_document_t *doc, yaml_node_t *n, struct sl_limits *lim,
		    char *msg, size_t len, yaml_node_t **at);
/* Writes the `limits:` section when a capacity differs from its default. */
void sl_limits_write(FILE *f, const struct sl_limits *lim);

#endif /* SL_CONFIG_LIMITS_H */
