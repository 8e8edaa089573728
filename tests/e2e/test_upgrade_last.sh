#!/usr/bin/env bash
# In-place upgrade from the last release before this one (96e9eea, pinned
# layout 5: the one CI last landed) to this build, under traffic: the same
# checks as test_upgrade.sh (which upgrades from 93add9f, layout 1), every
# entry, rule, id, comment and counter kept, no packet unfiltered.
UPGRADE_FROM=96e9eea UPGRADE_FROM_LAYOUT=5 exec "$(dirname "$0")/test_upgrade.sh"
