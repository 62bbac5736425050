# -*- coding: utf-8 -*-
"""Asked by trac-deploy: which static resource directories does a Trac environment serve?

Usage: python htdocs_dirs.py ENV
Prints one JSON document on stdout:
  {"python": {...}, "trac": {...}, "providers": [{"name": "module.Class", "dirs": [[key, dir], ...]}]}
or, when something is missing, {"error": "import-trac" | "environment", "message": "..."} and
exits 3 (Trac cannot be imported) or 4 (the environment cannot be loaded).

Runs under the Python of the environment (Python 3 for Trac 1.6, Python 2.7 for Trac 1.4).
It loads the environment with logging switched off, so nothing is written into it.
"""
import json
import os
import sys


def fail(kind, message, code):
    sys.stdout.write(json.dumps({'error': kind, 'message': message}))
    sys.stdout.write('\n')
    sys.exit(code)


def python_facts():
    import site
    try:
        site_packages = site.getsitepackages()
    except AttributeError:  # old virtualenv's site.py
        site_packages = []
    return {
        'executable': sys.executable,
        'version': '%d.%d.%d' % tuple(sys.version_info[:3]),
        'prefix': sys.prefix,
        'basePrefix': getattr(sys, 'base_prefix', getattr(sys, 'real_prefix', sys.prefix)),
        'sitePackages': site_packages,
        'path': [os.path.abspath(p) for p in sys.path if p and os.path.isdir(p)],
    }


def main(argv):
    if len(argv) != 2:
        fail('usage', 'usage: htdocs_dirs.py ENV', 2)
    env_path = argv[1]
    try:
        import trac
        from trac.env import Environment
        from trac.web.chrome import Chrome
    except ImportError as e:
        fail('import-trac', str(e), 3)

    class QuietEnvironment(Environment):
        """The environment without its log: deploying must not create or touch log files."""

        def setup_log(self):
            self.log, handler = self.create_logger('none', None, 'ERROR', None)
            self.log.addHandler(handler)

    try:
        env = QuietEnvironment(env_path)
        providers = []
        for provider in Chrome(env).template_providers:
            dirs = [[key, root] for key, root in (provider.get_htdocs_dirs() or [])]
            providers.append({
                'name': '%s.%s' % (provider.__module__, provider.__class__.__name__),
                'dirs': dirs,
            })
    except Exception as e:
        fail('environment', '%s: %s' % (e.__class__.__name__, e), 4)
    result = {
        'python': python_facts(),
        'trac': {'version': trac.__version__, 'package': os.path.dirname(os.path.abspath(trac.__file__))},
        'providers': providers,
    }
    sys.stdout.write(json.dumps(result))
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
