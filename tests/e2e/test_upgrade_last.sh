#!/usr/bin/env bash
# In-place upgrade from the last release before this one (f6a351e, pinned
# layout 2: the one CI last landed) to this build, under traffic: the same
# checks as test_upgrade.sh (which upgrades from 93add9f, layout 1), every
# entry, rule, id, comment and counter kept, no packet unfiltered.
UPGRADE_FROM=f6a351e UPGRADE_FROM_LAYOUT=2 exec "$(dirname "$0")/test_upgrade.sh"
