#!/usr/bin/env bash
# Every log record of the agent is a fixed message with its values as fields (log/log.h):
# fails, naming file and line, when agent code calls spdlog's logging functions directly
# (only agent/log/, which implements the helpers, may).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if found=$(grep -rnE 'spdlog::(trace|debug|info|warn|error|critical|log)\(|SPDLOG_(TRACE|DEBUG|INFO|WARN|ERROR|CRITICAL)\(' \
             agent include --include='*.cpp' --include='*.h' | grep -v '^agent/log/' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//'); then
  echo "check-log-calls: log through composewatch::log with fields, not spdlog with values:" >&2
  echo "$found" >&2
  exit 1
fi
echo "check-log-calls: every log call goes through composewatch::log"
