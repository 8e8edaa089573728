#!/usr/bin/env bash
# In-place upgrade from the last release before this one (aec7dfe, pinned
# layout 6: the one CI last landed) to this build, under traffic: the same
# checks as test_upgrade.sh (which upgrades from 93add9f, layout 1), every
# entry, rule, id, comment and counter kept, no packet unfiltered, and the
# reason/action counters carried exactly under the hook "unknown" (layout
# 6 counted no hook).
UPGRADE_FROM=aec7dfe UPGRADE_FROM_LAYOUT=6 exec "$(dirname "$0")/test_upgrade.sh"
