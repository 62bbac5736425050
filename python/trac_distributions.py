# -*- coding: utf-8 -*-
"""Asked by trac-deploy fleet: which Trac, plugins and database drivers does this Python have?

Usage: python trac_distributions.py
Prints one JSON document on stdout:
  {"python": "3.11.2", "trac": "1.6" | null,
   "plugins": [{"name": "TracXYZ", "version": "1.0"}],   # distributions with trac.plugins entry points
   "drivers": {"psycopg2": {"name": "psycopg2-binary", "version": "2.9.9"} | null, "pymysql": ... }}
Reads package metadata only: imports neither Trac nor the plugins.
"""
import json
import platform
import sys

try:
    from importlib import metadata
except ImportError:  # Python < 3.8
    metadata = None


def entry_point_groups(dist):
    try:
        return {ep.group for ep in dist.entry_points}
    except Exception:  # a broken distribution's metadata
        return set()


def main():
    answer = {'python': platform.python_version(), 'trac': None, 'plugins': [], 'drivers': {'psycopg2': None, 'pymysql': None}}
    if metadata is None:
        sys.stdout.write(json.dumps(answer) + '\n')
        return
    seen = set()
    for dist in metadata.distributions():
        name = dist.metadata['Name'] or ''
        key = name.lower().replace('_', '-')
        if not name or key in seen:
            continue
        seen.add(key)
        if key == 'trac':
            answer['trac'] = dist.version
        elif key in ('psycopg2', 'psycopg2-binary'):
            answer['drivers']['psycopg2'] = {'name': name, 'version': dist.version}
        elif key == 'pymysql':
            answer['drivers']['pymysql'] = {'name': name, 'version': dist.version}
        elif 'trac.plugins' in entry_point_groups(dist):
            answer['plugins'].append({'name': name, 'version': dist.version})
    answer['plugins'].sort(key=lambda p: p['name'].lower())
    sys.stdout.write(json.dumps(answer) + '\n')


main()
