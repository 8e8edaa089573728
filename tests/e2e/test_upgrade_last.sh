#!/usr/bin/env bash
# In-place upgrade from the last release before this one (af4ac95, pinned
# layout 4: the one CI last landed) to this build, under traffic: the same
# checks as test_upgrade.sh (which upgrades from 93add9f, layout 1), every
# entry, rule, id, comment and counter kept, no packet unfiltered.
UPGRADE_FROM=af4ac95 UPGRADE_FROM_LAYOUT=4 exec "$(dirname "$0")/test_upgrade.sh"
