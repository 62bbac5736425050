# -*- coding: utf-8 -*-
"""Asked by trac-deploy: which static resource directories does a Trac environment serve?

Usage: python htdocs_dirs.py ENV
Prints one JSON document on stdout:
  {"python": {...}, "trac": {...}, "providers": [{"name": "module.Class", "dirs": [[key, dir], ...]}]}
and "verdict": what `trac-admin ENV deploy` checks before it copies anything (its database
answers, no upgrade is needed: errors) plus the plugins Trac skipped (warnings):
  "verdict": {"problems": [{"code", "severity", "message", "path"?, "advice"?}, ...]}
or, when something is missing, {"error": "import-trac" | "environment", "message": "..."} and
exits 3 (Trac cannot be imported) or 4 (the environment cannot be loaded; "code" and "advice"
then say why, with the codes of python/preflight.py).

Runs under the Python of the environment (Python 3 for Trac 1.6, Python 2.7 for Trac 1.4).
It loads the environment with its log going nowhere, so nothing is written into it.
"""
import gc
import json
import logging
import os
import sys


# A short run that exits once it has answered: the cyclic garbage collector would only walk the
# objects of Trac's imports again and again while they are made (~10 ms, 3% of the question).
# Nothing Trac does depends on it; what this process allocates is freed when it exits.
gc.disable()


def defer_setuptools():
    """trac.env imports setuptools only to name its version in the system information, which
    this program never asks for; importing it costs ~50 ms (a sixth of the question). A stand-in
    imports the real package the moment anything uses it, so a plugin that needs setuptools gets
    it, and what Trac answers is the same."""
    if 'setuptools' in sys.modules:
        return
    import types

    class Deferred(types.ModuleType):
        def __getattr__(self, name):
            import importlib
            if sys.modules.get('setuptools') is self:
                del sys.modules['setuptools']
            return getattr(importlib.import_module('setuptools'), name)

    sys.modules['setuptools'] = Deferred('setuptools')


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
        'absent': absent_import_paths(),
    }


def absent_import_paths():
    """The import paths that are no directory now: entries of sys.path that are missing or name
    a file (a zip, read by zipimport), and the user's site-packages when Python reads it and it
    is not there yet (`pip install --user` makes it). Each is stamped as it is (missing, or the
    file): one made or changed later changes what the answer imports. (The key 'absent' is kept
    for the answer cache's format.)"""
    import site
    wanted = [p for p in sys.path if p and not os.path.isdir(p)]
    if getattr(site, 'ENABLE_USER_SITE', False) and hasattr(site, 'getusersitepackages'):
        user_site = site.getusersitepackages()
        if not os.path.isdir(user_site):
            wanted.append(user_site)
    return sorted(set(os.path.abspath(p) for p in wanted))


def problem(code, message, path, advice=None, severity='error'):
    found = {'code': code, 'severity': severity, 'message': message, 'path': path}
    if advice:
        found['advice'] = advice
    return found


def text_of(e):
    return ('%s' % e if e.__class__.__name__ == 'TracError' else '%s: %s' % (e.__class__.__name__, e)) \
        .replace('<code>', '').replace('</code>', '')


def refuse(found):
    sys.stdout.write(json.dumps(dict(found, error='environment')))
    sys.stdout.write('\n')
    sys.exit(4)


def open_failure(env_path, e):
    """Trac could not open the environment: the codes of python/preflight.py."""
    unreadable = getattr(e, 'errno', None) == 13 or any(
        words in str(e) for words in ('make sure it is readable', 'Permission denied', 'Errno 13'))
    if unreadable:
        return problem('trac-cannot-read', '%s: Trac cannot open the environment: %s' % (env_path, text_of(e)), env_path,
                       ['make that file readable by the user running trac-deploy (trac.ini and every [inherit] file)'])
    advice = ['merge the two sections of that name in trac.ini into one'] if 'DuplicateSection' in text_of(e) else None
    return problem('trac-cannot-open', '%s: Trac cannot open the environment: %s' % (env_path, text_of(e)), env_path, advice)


def database_failure(env_path, e):
    message = text_of(e)
    if 'permissions to the database file' in message:
        return problem('database-access', '%s: Trac cannot use the database: %s' % (env_path, message), env_path,
                       ['give the database file and its directory to the user that runs Trac (chown)'])
    if any(words in message for words in ('Unable to get database connection', 'could not connect',
                                          'Connection refused', "Can't connect", 'timeout expired')):
        return problem('database-unreachable', '%s: Trac cannot reach the database: %s' % (env_path, message), env_path,
                       ['start the database server, or check [trac] database in trac.ini'])
    return problem('database-unusable', '%s: Trac cannot use the database: %s' % (env_path, message), env_path)


class Captured(logging.Handler):
    """What Trac logs at WARNING and above while it loads the environment's plugins."""

    def __init__(self):
        logging.Handler.__init__(self, logging.WARNING)
        self.records = []

    def emit(self, record):
        try:
            self.records.append(record.getMessage())
        except Exception:
            self.records.append(str(record.msg))


def main(argv):
    if len(argv) != 2:
        fail('usage', 'usage: htdocs_dirs.py ENV', 2)
    env_path = argv[1]
    defer_setuptools()
    try:
        import trac
        from trac.env import Environment
        from trac.web.chrome import Chrome
    except ImportError as e:
        fail('import-trac', str(e), 3)

    captured = Captured()

    class QuietEnvironment(Environment):
        """The environment with its log captured: deploying must not create or touch log files."""

        def setup_log(self):
            self.log = logging.getLogger('trac-deploy.htdocs')
            self.log.propagate = False
            self.log.setLevel(logging.WARNING)
            self.log.handlers = [captured]

    try:
        env = QuietEnvironment(env_path)
    except Exception as e:
        refuse(open_failure(env_path, e))
    problems = []
    for message in captured.records:
        # trac.loader logs each plugin it skips: 'Skipping "name": reason' / 'Failed to load plugin from ...'
        if message.startswith('Skipping ') or message.startswith('Failed to load plugin'):
            problems.append(problem('plugin-not-loaded', '%s: a plugin does not load: %s' % (env_path, message.split('\n')[0]),
                                    env_path, severity='warning'))
    # What trac-admin checks before any command but upgrade (trac/admin/console.py, default()).
    # Reported as errors beside the answer: deploy refuses on them; fleet, which plans for other
    # hosts whose database this machine may not reach, does not.
    try:
        if env.needs_upgrade():
            problems.append(problem('needs-upgrade', '%s: Trac says the environment needs an upgrade and will not serve it' % env_path,
                                    env_path, ['trac-admin %s upgrade' % env_path]))
    except Exception as e:
        problems.append(database_failure(env_path, e))
    try:
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
        'verdict': {'problems': problems},
    }
    sys.stdout.write(json.dumps(result))
    sys.stdout.write('\n')


def exit_now(code):
    """Ends the process once the answer is out, without the interpreter's teardown: with every
    module of Trac and its plugins loaded, clearing them and the final collection take ~50 ms
    (an eighth of the question) after the answer, which trac-deploy waits for. What a normal exit
    runs for others still runs first: the atexit functions (a plugin's cleanup, logging's
    shutdown), then stdout and stderr are flushed."""
    try:
        import atexit
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


if __name__ == '__main__':
    try:
        main(sys.argv)
        status = 0
    except SystemExit as e:
        # sys.exit(n) as fail() and refuse() call it; a message (never given here) as Python would.
        if e.code is None or isinstance(e.code, int):
            status = e.code or 0
        else:
            sys.stderr.write('%s\n' % e.code)
            status = 1
    exit_now(status)
