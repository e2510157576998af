#!/usr/bin/env python3
"""Compare two Prometheus text expositions of pgque's metrics, for the test
scripts: the one pgque.metrics() returns and the one a scraper serves.

    promtext.py compare METRICS.txt SCRAPED.txt DATNAME

Every sample of METRICS.txt but pgque_up must be in SCRAPED.txt with the same
labels (SCRAPED.txt may add datname, which must be DATNAME, and server) and
the same value; SCRAPED.txt must have no other pgque_ sample. Values of
families that measure time (*_age_seconds, *_lag_seconds) are only checked
to be numbers, and the time in a rotation_blocked_by label ("(lag ...)") is
left out. Prints each difference and exits 1 if there is one.

    promtext.py names FILE...

Prints the pgque_ metric names used in the PromQL expressions of a Grafana
dashboard (.json: every "expr" and "query") or a Prometheus rules file
(.yml: every "expr"), one per line.

    promtext.py dashboard FILE

Checks that a Grafana dashboard imports anywhere: its data source is the
input DS_PROMETHEUS and every panel and query uses it, it has the template
variable queue and every query of a queue's metric filters by it, panel ids
are unique. Prints each problem to stderr (exit 1), then every query
expression on one line each, with the dashboard's variables replaced
($queue by .*, $__rate_interval by 1m) so that Prometheus can run it.
"""
import json
import math
import re
import sys

import yaml

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
TIMED = re.compile(r'_(age|lag)_seconds$')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1), v)


def samples(path):
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            m = LINE.match(line)
            if not m:
                raise SystemExit(f'{path}: not a sample line: {line!r}')
            name, block, value = m.groups()
            labels = {}
            pos = 0
            block = block or ''
            while pos < len(block):
                lm = LABEL.match(block, pos)
                if not lm:
                    raise SystemExit(f'{path}: bad labels in {line!r}')
                labels[lm.group(1)] = unescape(lm.group(2))
                pos = lm.end()
            out.setdefault(name, []).append((labels, float(value)))
    return out


def key(name, labels):
    labels = dict(labels)
    if name == 'pgque_rotation_blocked_by' and 'by' in labels:
        labels['by'] = re.sub(r' \((lag|open for) [^()]*\)', '', labels['by'])
    return name, tuple(sorted(labels.items()))


def compare(metrics_path, scraped_path, datname):
    want, got, bad = {}, {}, []
    for name, rows in samples(metrics_path).items():
        if name == 'pgque_up':
            continue
        for labels, value in rows:
            want[key(name, labels)] = value
    for name, rows in samples(scraped_path).items():
        if not name.startswith('pgque_'):
            continue
        for labels, value in rows:
            if labels.pop('datname', None) != datname:
                bad.append(f'{name}{labels}: datname is not {datname!r}')
            labels.pop('server', None)
            k = key(name, labels)
            if k in got:
                bad.append(f'{k}: twice')
            got[k] = value
    for k in sorted(set(want) | set(got)):
        if k not in got:
            bad.append(f'missing from the scrape: {k}')
        elif k not in want:
            bad.append(f'not in pgque.metrics(): {k}')
        elif TIMED.search(k[0]):
            if math.isnan(got[k]) != math.isnan(want[k]):
                bad.append(f'{k}: {got[k]} scraped, {want[k]} in pgque.metrics()')
        elif got[k] != want[k] and not (math.isnan(got[k]) and math.isnan(want[k])):
            bad.append(f'{k}: {got[k]} scraped, {want[k]} in pgque.metrics()')
    for b in bad:
        print(b)
    print(f'{len(want)} samples compared, {len(bad)} differences')
    return 1 if bad else 0


def exprs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ('expr', 'query') and isinstance(v, str):
                yield v
            else:
                yield from exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from exprs(v)


def names(paths):
    found = set()
    for path in paths:
        with open(path, encoding='utf-8') as f:
            doc = json.load(f) if path.endswith('.json') else yaml.safe_load(f)
        for e in exprs(doc):
            found.update(re.findall(r'\bpgque_[a-zA-Z0-9_]+', e))
    for n in sorted(found):
        print(n)
    return 0


DS = '${DS_PROMETHEUS}'
# metrics without a queue label
UNQUEUED = re.compile(r'\bpgque_(worker_[a-z_]+|up)\b')


def dashboard(path):
    with open(path, encoding='utf-8') as f:
        doc = json.load(f)
    bad = []
    inputs = [i for i in doc.get('__inputs', []) if i.get('name') == 'DS_PROMETHEUS']
    if not inputs or inputs[0].get('type') != 'datasource' or inputs[0].get('pluginId') != 'prometheus':
        bad.append('no __inputs entry DS_PROMETHEUS for a prometheus data source')
    variables = {v.get('name'): v for v in doc.get('templating', {}).get('list', [])}
    if 'queue' not in variables:
        bad.append('no template variable queue')
    for v in variables.values():
        if v.get('datasource', {}).get('uid') != DS:
            bad.append(f'variable {v.get("name")}: data source is not {DS}')
    ids, out = set(), []
    panels = list(doc.get('panels', []))
    for p in panels:
        panels.extend(p.get('panels', []))
        if p.get('id') in ids:
            bad.append(f'panel id {p.get("id")} twice')
        ids.add(p.get('id'))
        if p.get('type') == 'row':
            continue
        title = p.get('title')
        if 'gridPos' not in p:
            bad.append(f'panel {title!r}: no gridPos')
        if p.get('datasource', {}).get('uid') != DS:
            bad.append(f'panel {title!r}: data source is not {DS}')
        if not p.get('targets'):
            bad.append(f'panel {title!r}: no query')
        for t in p.get('targets', []):
            e = t.get('expr', '')
            if t.get('datasource', {}).get('uid') != DS:
                bad.append(f'panel {title!r}: a query\'s data source is not {DS}')
            names = set(re.findall(r'\bpgque_[a-z_]+', e))
            if not names:
                bad.append(f'panel {title!r}: {e!r} reads no pgque_ metric')
            if any(not UNQUEUED.fullmatch(n) for n in names) and 'queue=~"$queue"' not in e:
                bad.append(f'panel {title!r}: {e!r} does not filter by $queue')
            out.append(e.replace('$__rate_interval', '1m').replace('$queue', '.*').replace('\n', ' '))
    for b in bad:
        print(b, file=sys.stderr)
    for e in out:
        print(e)
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == 'dashboard':
        sys.exit(dashboard(sys.argv[2]))
    if len(sys.argv) == 5 and sys.argv[1] == 'compare':
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4]))
    if len(sys.argv) >= 3 and sys.argv[1] == 'names':
        sys.exit(names(sys.argv[2:]))
    sys.exit(__doc__)
