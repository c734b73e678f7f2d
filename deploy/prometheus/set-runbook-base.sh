# A POSIX sh script, run as `sh set-runbook-base.sh` (the package installs it without the
# executable bit, as data beside the rules).
# Writes composewatch's alert rules with their runbook_url links pointing at your copy of
# docs/alerts.md instead of the one the package installs on the host.
#
#   sh set-runbook-base.sh BASE [FILE] > OUT
#
# BASE  the absolute URL of docs/alerts.md where the people who get the alerts can read
#       it, without '#': a page of your wiki, or the file in your fork on GitHub, GitLab or
#       Gitea. Each link becomes BASE#section, the anchors as those render the headings of
#       docs/alerts.md ("## Container OOM killed" -> #container-oom-killed).
# FILE  composewatch's Prometheus rules (default: rules.yml beside this script) or its
#       Grafana-managed rules (grafana/provisioning/alerting/composewatch.yml). Only the
#       runbook_url lines change; the result goes to standard output.
#
# Example, on the Prometheus host (docs/alerts.md, "Runbook links"):
#   sh /usr/share/composewatch/deploy/prometheus/set-runbook-base.sh \
#       https://git.example.com/ops/composewatch/src/branch/main/docs/alerts.md \
#       > /etc/prometheus/composewatch-rules.yml
set -eu

me=set-runbook-base.sh
usage() {
  echo "usage: sh $me BASE [FILE] > OUT   (BASE: the absolute URL of your copy of docs/alerts.md)" >&2
  exit 2
}
case ${1:-} in -h | --help | "") usage ;; esac
[ $# -le 2 ] || usage
base=$1
file=${2:-$(dirname "$0")/rules.yml}

# An absolute URL (scheme://...) that the YAML scalars, the alert templates and this sed
# take as it is: no blanks, quotes, '#', '|', backslash, '$', braces or angle brackets.
if ! printf '%s\n' "$base" | grep -Eq '^[A-Za-z][A-Za-z0-9+.-]*://[^][:space:]"#|\\${}<>[]+$'; then
  echo "$me: BASE '$base' is not an absolute URL without blanks, quotes, '#', '|', '\\', '\$', braces or angle brackets" >&2
  echo "  (example: https://git.example.com/ops/composewatch/src/branch/main/docs/alerts.md)" >&2
  exit 2
fi
if [ ! -r "$file" ]; then
  echo "$me: cannot read $file" >&2
  exit 1
fi
total=$(grep -c '^[[:space:]]*runbook_url:' "$file" || true)
if [ "$total" -eq 0 ]; then
  echo "$me: $file has no runbook_url annotation: not composewatch's rules.yml or Grafana alerting file" >&2
  exit 1
fi

# sed's replacement takes '&' as the match.
replacement=$(printf '%s' "$base" | sed 's/&/\\&/g')
out=$(sed "s|^\([[:space:]]*runbook_url: \"\{0,1\}\)[^\"#[:space:]]*#|\1$replacement#|" "$file")
done_count=$(printf '%s\n' "$out" | grep -F -c "runbook_url: $base#" || true)
quoted_count=$(printf '%s\n' "$out" | grep -F -c "runbook_url: \"$base#" || true)
if [ $((done_count + quoted_count)) -ne "$total" ]; then
  echo "$me: $file: $((total - done_count - quoted_count)) of $total runbook_url lines are not of the form 'runbook_url: URL#section'" >&2
  exit 1
fi
printf '%s\n' "$out"
