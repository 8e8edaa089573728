#!/usr/bin/env bash
# test_upgrade_state.sh from 96e9eea (pinned layout 5) instead of the last
# release: the steps 5 -> 6 (the connection table converted under a live
# TCP connection) and 6 -> 7 (the counters carried under the hook
# "unknown") run chained, with one load and one switch.
UPGRADE_FROM=96e9eea exec "$(dirname "$0")/test_upgrade_state.sh"
