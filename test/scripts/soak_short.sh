#!/usr/bin/env bash
# The soak test, 60 seconds (make soak runs it for 10 minutes).
exec "$(dirname "$0")/../soak.sh" 60
