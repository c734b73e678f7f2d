#!/usr/bin/env python3
"""Writes grafana/provisioning/alerting/composewatch.yml from deploy/prometheus/rules.yml.

One Grafana-managed rule per alert of rules.yml, with the alert's PromQL expression, for:,
keep_firing_for: (Grafana's keepFiringFor), labels and annotations (runbook_url with the
same base as rules.yml: set-runbook-base.sh rewrites either file). Grafana alerts on a condition that is a number per series, where
Prometheus alerts on every series an expression returns; so each rule is the query (A), the
math expression Grafana's own Prometheus-rule conversion uses, 1 for any value (B), and a
threshold on it (C). A query that returns nothing is "no data", which is OK here, as it is
for Prometheus.

One change to the annotations: Grafana's $value is a string with the labels and values of
every query and expression of the rule, not the number Prometheus gives, so "$value"
becomes "$values.A.Value" (the value of query A for the alert's series).

    grafana/generate-alerting.py [--datasource-uid UID] [--rules FILE] [--output FILE]

Python 3 standard library only: it reads the subset of YAML that rules.yml is written in
(block mappings and sequences, plain and quoted scalars, | and > block scalars) and stops
with the line number at anything else.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = os.path.join(HERE, "..", "deploy", "prometheus", "rules.yml")
OUTPUT = os.path.join(HERE, "provisioning", "alerting", "composewatch.yml")

GROUP = "composewatch"
FOLDER = "composewatch"
# The evaluation interval of the Prometheus rules (and of their promtool tests).
INTERVAL = "1m"


class YamlSubsetError(Exception):
    pass


# ---------------------------------------------------------------------------- reading

def _lines(text):
    """(line number, indent, content) of every line; comments and blank lines included."""
    out = []
    for n, raw in enumerate(text.split("\n"), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlSubsetError(f"line {n}: tab in indentation")
        content = raw.strip()
        out.append((n, len(raw) - len(raw.lstrip(" ")), content))
    return out


def _significant(lines, i):
    while i < len(lines) and (not lines[i][2] or lines[i][2].startswith("#")):
        i += 1
    return i


def _unquote_double(s, n):
    if not s.endswith('"') or len(s) < 2:
        raise YamlSubsetError(f"line {n}: unterminated or multi-line double-quoted string")
    try:
        # YAML's double-quoted escapes that rules files use are JSON's.
        return json.loads(s)
    except json.JSONDecodeError as e:
        raise YamlSubsetError(f"line {n}: {e}")


def _scalar(s, n):
    if s.startswith('"'):
        return _unquote_double(s, n)
    if s.startswith("'"):
        if not s.endswith("'") or len(s) < 2:
            raise YamlSubsetError(f"line {n}: unterminated or multi-line single-quoted string")
        return s[1:-1].replace("''", "'")
    if s.startswith("[") or s.startswith("{"):
        if s in ("[]", "{}"):
            return [] if s == "[]" else {}
        raise YamlSubsetError(f"line {n}: flow collections are not supported")
    if s[:1] in ("&", "*", "!", "|", ">", "%", "@", "`"):
        raise YamlSubsetError(f"line {n}: unsupported YAML construct {s[:1]!r}")
    return re.split(r"\s+#", s, maxsplit=1)[0].rstrip()


def _split_key(content, n):
    m = re.match(r"^([A-Za-z_][A-Za-z0-9_.-]*):(?:\s+(.*))?$", content)
    if not m:
        raise YamlSubsetError(f"line {n}: expected 'key: value', got {content!r}")
    return m.group(1), (m.group(2) or "")


def _block_scalar(lines, i, parent_indent, header, n):
    m = re.match(r"^([|>])([+-]?)$", header.split(" #")[0].strip())
    if not m:
        raise YamlSubsetError(f"line {n}: unsupported block scalar header {header!r}")
    style, chomp = m.groups()
    body = []
    indent = None
    while i < len(lines):
        ln, ind, content = lines[i]
        if content and ind <= parent_indent:
            break
        if content and indent is None:
            indent = ind
        body.append("" if not content else " " * (ind - indent) + content)
        i += 1
    while body and body[-1] == "":
        body.pop()
    if style == "|":
        text = "\n".join(body)
    else:
        # Folded: lines joined by spaces, an empty line is a line break.
        paragraphs, current = [], []
        for line in body:
            if line == "":
                paragraphs.append(" ".join(current))
                current = []
            else:
                current.append(line)
        paragraphs.append(" ".join(current))
        text = "\n".join(paragraphs)
    if chomp != "-" and text:
        text += "\n"
    return text, i


def _value_after_key(lines, i, indent, rest, n):
    """The value of a key whose text after ':' is `rest`; i is the next line."""
    if rest.startswith("|") or rest.startswith(">"):
        return _block_scalar(lines, i, indent, rest, n)
    if rest:
        return _scalar(rest, n), i
    j = _significant(lines, i)
    if j < len(lines) and (lines[j][1] > indent or (lines[j][1] == indent and lines[j][2].startswith("- "))):
        return _node(lines, j, lines[j][1])
    return None, i


def _mapping(lines, i, indent, first=None):
    out = {}
    while True:
        if first is not None:
            n, content = first
            first = None
        else:
            i = _significant(lines, i)
            if i >= len(lines) or lines[i][1] < indent:
                return out, i
            n, ind, content = lines[i]
            if ind != indent or content.startswith("- "):
                if ind > indent:
                    raise YamlSubsetError(f"line {n}: unexpected indentation")
                return out, i
            i += 1
        key, rest = _split_key(content, n)
        if key in out:
            raise YamlSubsetError(f"line {n}: duplicate key {key!r}")
        out[key], i = _value_after_key(lines, i, indent, rest, n)


def _sequence(lines, i, indent):
    out = []
    while True:
        i = _significant(lines, i)
        if i >= len(lines) or lines[i][1] != indent or not (lines[i][2] == "-" or lines[i][2].startswith("- ")):
            return out, i
        n, _, content = lines[i]
        item = content[1:].strip()
        i += 1
        if not item:
            j = _significant(lines, i)
            value, i = _node(lines, j, lines[j][1]) if j < len(lines) and lines[j][1] > indent else (None, i)
        elif re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*:(\s|$)", item):
            # "- key: value": a mapping whose keys sit two columns further in.
            value, i = _mapping(lines, i, indent + 2, first=(n, item))
        else:
            value = _scalar(item, n)
        out.append(value)


def _node(lines, i, indent):
    content = lines[i][2]
    if content == "-" or content.startswith("- "):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def load_yaml_subset(text):
    lines = _lines(text)
    i = _significant(lines, 0)
    if i >= len(lines):
        return None
    value, i = _node(lines, i, lines[i][1])
    i = _significant(lines, i)
    if i < len(lines):
        raise YamlSubsetError(f"line {lines[i][0]}: unexpected content {lines[i][2]!r}")
    return value


# ---------------------------------------------------------------------------- writing

def rule_uid(alert):
    """ComposewatchContainerOOMKilled -> cw-container-oom-killed (Grafana: at most 40 of [A-Za-z0-9-_])."""
    name = alert[len("Composewatch"):] if alert.startswith("Composewatch") else alert
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)
    uid = "cw-" + "-".join(w.lower() for w in words)
    if len(uid) > 40 or not re.fullmatch(r"[A-Za-z0-9_-]+", uid):
        raise ValueError(f"no valid rule uid for {alert}: {uid}")
    return uid


def grafana_annotation(text):
    # Not $values: \b ends "value" only where no word character follows.
    return re.sub(r"\$value\b", "$values.A.Value", text)


def q(s):
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(s, ensure_ascii=False)


def expr_lines(expr, indent):
    expr = expr.strip("\n")
    if "\n" not in expr:
        return [q(expr)]
    pad = " " * indent
    return ["|-"] + [pad + line if line else "" for line in expr.split("\n")]


def render(alerts, datasource_uid):
    out = [
        "# Grafana-managed alert rules for composewatch: every alert of deploy/prometheus/rules.yml with",
        "# the same expression, for:, severity and annotations. Use these or the Prometheus rules, not",
        "# both (each would page). Install with",
        "#",
        "#   ln -s /usr/share/composewatch/grafana/provisioning/alerting/composewatch.yml \\",
        "#         /etc/grafana/provisioning/alerting/composewatch.yml",
        "#",
        f"# The queries name the Prometheus data source by uid ({datasource_uid}); see docs/grafana.md.",
        "# runbook_url links point where rules.yml's do; for your own copy of docs/alerts.md write",
        "# this file with deploy/prometheus/set-runbook-base.sh (docs/alerts.md, \"Runbook links\").",
        "# Written by grafana/generate-alerting.py from rules.yml: change rules.yml and run it again.",
        "apiVersion: 1",
        "groups:",
        "  - orgId: 1",
        f"    name: {GROUP}",
        f"    folder: {FOLDER}",
        f"    interval: {INTERVAL}",
        "    rules:",
    ]
    for a in alerts:
        name = a["alert"]
        out += [
            f"      - uid: {rule_uid(name)}",
            f"        title: {name}",
            "        condition: C",
            "        data:",
            "          - refId: A",
            "            relativeTimeRange:",
            "              from: 600",
            "              to: 0",
            f"            datasourceUid: {q(datasource_uid)}",
            "            model:",
            "              refId: A",
            "              datasource:",
            "                type: prometheus",
            f"                uid: {q(datasource_uid)}",
        ]
        e = expr_lines(a["expr"], 16)
        out.append("              expr: " + e[0])
        out += e[1:]
        out += [
            "              instant: true",
            "              range: false",
            "              intervalMs: 1000",
            "              maxDataPoints: 43200",
            "          - refId: B",
            "            relativeTimeRange:",
            "              from: 0",
            "              to: 0",
            "            datasourceUid: __expr__",
            "            model:",
            "              refId: B",
            "              datasource:",
            "                type: __expr__",
            "                uid: __expr__",
            "              type: math",
            '              expression: "is_number($A) || is_nan($A) || is_inf($A)"',
            "          - refId: C",
            "            relativeTimeRange:",
            "              from: 0",
            "              to: 0",
            "            datasourceUid: __expr__",
            "            model:",
            "              refId: C",
            "              datasource:",
            "                type: __expr__",
            "                uid: __expr__",
            "              type: threshold",
            "              expression: B",
            "              conditions:",
            "                - evaluator:",
            "                    type: gt",
            "                    params: [0]",
            "        noDataState: OK",
            "        execErrState: Error",
            f"        for: {a.get('for', '0s')}",
        ]
        if a.get("keep_firing_for"):
            # Grafana's "keep firing for": Prometheus's keep_firing_for.
            out.append(f"        keepFiringFor: {a['keep_firing_for']}")
        out += [
            # As Prometheus does: an alert resolves at the first evaluation without its series.
            "        missing_series_evals_to_resolve: 1",
            "        isPaused: false",
            "        labels:",
        ]
        for k, v in (a.get("labels") or {}).items():
            out.append(f"          {k}: {q(v)}")
        out.append("        annotations:")
        for k, v in (a.get("annotations") or {}).items():
            out.append(f"          {k}: {q(grafana_annotation(v))}")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasource-uid", default="prometheus",
                        help="uid of the Prometheus data source the rules query (default: prometheus)")
    parser.add_argument("--rules", default=RULES, help="the Prometheus rules file")
    parser.add_argument("--output", default=OUTPUT, help="the file to write, - for stdout")
    args = parser.parse_args()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", args.datasource_uid):
        parser.error("a data source uid is at most 40 of A-Z a-z 0-9 - _")

    with open(args.rules, encoding="utf-8") as f:
        try:
            doc = load_yaml_subset(f.read())
        except YamlSubsetError as e:
            sys.exit(f"{args.rules}: {e}")
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    uids = [rule_uid(a["alert"]) for a in alerts]
    if len(set(uids)) != len(uids):
        sys.exit("two alerts map to the same rule uid")

    text = render(alerts, args.datasource_uid)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
