# -*- coding: utf-8 -*-
"""Asked by trac-deploy: will Trac serve these environments? Trac itself answers.

Run once for all environments, in the interpreter the deployment uses, as the web server's user.
Reads on stdin a first line, one JSON document:
  {"siteDirs": [dir, ...], "svnBindings": dir or null, "environments": [path, ...] (optional),
   "stamps": false (optional: leave out what only a kept verdict needs, STAMP_KEYS)}
then any number of lines, each an environment's path as a JSON string; answers each as it comes
(so a caller can stream any number of environments and hand out more as answers arrive), and
writes JSON lines on stdout:
  {"kind": "python", "python": ..., "trac": ... or null, "error": ..., "svn": {...}}   first
  {"kind": "environment", "path": ..., "problems": [...], "repositories": [...], ...}  one each
  {"kind": "done"}                                                                      last

Each environment is opened as trac.env.open_environment does for dispatch_request (its
configuration, [inherit] files, log, plugins, then the database and needs_upgrade); each
repository through RepositoryManager. The log file is checked for access, not opened; no
bytecode is written (trac-deploy runs this with PYTHONDONTWRITEBYTECODE: a single-file plugin's
plugins/__pycache__ is the daemon's to make, and made while the verdict is asked it would change
what the verdict is kept against); the one write is Trac's own: RepositoryManager records an id
for each repository it lists, as it does at the first request.

What Trac computes the same way for every environment is kept within the process (the remember_*
functions below, each answer only while what it depends on is unchanged);
TRAC_DEPLOY_PREFLIGHT_PLAIN=1 keeps nothing: Trac's code as it is.
"""
import json
import logging
import os
import re
import site
import sys


def emit(document):
    sys.stdout.write(json.dumps(document))
    sys.stdout.write('\n')
    sys.stdout.flush()


def problem(code, severity, message, path=None, advice=None):
    found = {'code': code, 'severity': severity, 'message': message}
    if path:
        found['path'] = path
    if advice:
        found['advice'] = advice
    return found


def text_of(e):
    return '%s: %s' % (e.__class__.__name__, e) if not e.__class__.__name__ == 'TracError' else '%s' % e


class SvnBindingsFinder(object):
    """Finds only the packages svn and libsvn in one directory (Debian's dist-packages), so
    the rest of that directory stays invisible; the generated script installs the same finder."""
    directory = None

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in ('svn', 'libsvn') or path is not None:
            return None
        import importlib.machinery
        return importlib.machinery.PathFinder.find_spec(name, [cls.directory])


def svn_facts(system_dir):
    import importlib.util
    own = importlib.util.find_spec('svn') is not None
    facts = {'inInterpreter': own, 'systemDir': None}
    if not own and system_dir and os.path.isfile(os.path.join(system_dir, 'svn', '__init__.py')) \
            and os.path.isdir(os.path.join(system_dir, 'libsvn')):
        facts['systemDir'] = system_dir
        SvnBindingsFinder.directory = system_dir
        sys.meta_path.append(SvnBindingsFinder)
    return facts


class Captured(logging.Handler):
    """What Trac logs at WARNING and above while it opens an environment."""

    def __init__(self):
        logging.Handler.__init__(self, logging.WARNING)
        self.records = []

    def emit(self, record):
        try:
            self.records.append(record.getMessage())
        except Exception:
            self.records.append(str(record.msg))


def log_problem(env):
    """Trac opens its log file at start and fails without it: check that, without writing."""
    log_type = (env.log_type or 'none').lower()
    if log_type != 'file':
        return None
    log_file = env.log_file_path
    # Only who may write them matters here, not what the log holds.
    _OPENING['access'] = [log_file, os.path.dirname(log_file)]
    if os.path.exists(log_file):
        if os.access(log_file, os.W_OK):
            return None
        target = log_file
    else:
        target = os.path.dirname(log_file)
        if os.path.isdir(target) and os.access(target, os.W_OK | os.X_OK):
            return None
    return problem('log-file-unwritable', 'error',
                   '%s: [logging] log_type = file, but this user cannot write %s; Trac fails at start'
                   % (env.path, target), target,
                   ['make %s writable by the web server user, or set [logging] log_type = none' % target])


_OPENING = {}
_ENVIRONMENT_CLASS = []


def environment_class():
    """trac.env.Environment with the log replaced (checked, then captured): one class for the
    whole run. A component class registers itself with Trac's ComponentMeta for good, so a class
    made per environment would pile up there (and in each later environment's participants)."""
    if not _ENVIRONMENT_CLASS:
        from trac.env import Environment

        class PreflightEnvironment(Environment):
            def setup_log(self):
                _OPENING['log'] = log_problem(self)
                # A logger of its own, not registered with logging's manager (which would keep
                # one per environment for the life of the process).
                self.log = logging.Logger('trac-deploy.preflight.%d' % _OPENING['counter'], logging.WARNING)
                self.log.propagate = False
                self.log.handlers = [_OPENING['captured']]

        _ENVIRONMENT_CLASS.append(PreflightEnvironment)
    return _ENVIRONMENT_CLASS[0]


def open_environment(path, captured, counter):
    _OPENING.clear()
    _OPENING.update(captured=captured, counter=counter, log=None, access=[])
    try:
        env = environment_class()(path)
        return env, _OPENING.get('log'), _OPENING.get('access') or []
    finally:
        _OPENING.clear()


def check_repositories(env, problems):
    from trac.core import TracError
    from trac.versioncontrol.api import RepositoryManager
    repositories = []
    try:
        manager = RepositoryManager(env)
        infos = manager.get_all_repositories()
    except Exception as e:
        problems.append(problem('repositories-unreadable', 'error', '%s: Trac cannot list its repositories: %s' % (env.path, text_of(e)), env.path))
        return repositories
    for name in sorted(infos):
        info = infos[name]
        entry = {'name': name, 'type': info.get('type') or manager.default_repository_type,
                 'dir': info.get('dir'), 'alias': info.get('alias'), 'hidden': bool(info.get('hidden')),
                 'ok': False, 'error': None}
        repositories.append(entry)
        if info.get('alias') is None and not info.get('dir'):
            continue
        try:
            repos = manager.get_repository(name)
            entry['ok'] = repos is not None
            if repos is not None:
                repos.close()
        except TracError as e:
            entry['error'] = text_of(e)
        except Exception as e:
            entry['error'] = text_of(e)
    return repositories


def one_attachment(env, inputs):
    """One attachment whose file is on disk, for the smoke test's download."""
    try:
        rows = env.db_query("SELECT type, id, filename, size FROM attachment ORDER BY time LIMIT 20")
    except Exception:
        return None
    from trac.attachment import Attachment
    for realm, resource_id, filename, size in rows:
        try:
            attachment = Attachment(env, realm, resource_id, filename)
            if os.path.isfile(attachment.path):
                inputs.append(attachment.path)
                return {'realm': realm, 'id': resource_id, 'filename': filename,
                        'size': os.path.getsize(attachment.path)}
        except Exception:
            continue
    return None


# What trac-deploy stamps to keep a verdict (src/inspect/preflightCache.ts, one environment):
# left out when the request says "stamps": false (a directory of environments, no verdict kept).
STAMP_KEYS = ('inputs', 'accessInputs', 'databaseScheme', 'databaseFile', 'configFiles', 'pluginsDirs')


def check_environment(path, counter, stamps=True):
    result = check_opening(path, counter, stamps)
    if not stamps:
        for key in STAMP_KEYS:
            result.pop(key, None)
    return result


def check_opening(path, counter, stamps):
    result = {'kind': 'environment', 'path': path, 'problems': [], 'repositories': [], 'plugins': [],
              'attachment': None, 'project': None, 'xsendfile': None, 'filesDir': None, 'opened': False,
              'inputs': [], 'accessInputs': []}
    problems = result['problems']
    captured = Captured()
    try:
        env, log, result['accessInputs'] = open_environment(path, captured, counter)
    except Exception as e:
        unreadable = getattr(e, 'errno', None) == 13 or any(words in str(e) for words in ('make sure it is readable', 'Permission denied', 'Errno 13'))
        problems.append(problem('trac-cannot-read' if unreadable else 'trac-cannot-open', 'error',
                                '%s: Trac cannot open the environment: %s' % (path, text_of(e)), path))
        return result
    if stamps:
        result.update(configuration_facts(env))
    try:
        answer_opened(env, path, log, captured, result)
    finally:
        # Also after an early answer (needs upgrade, database unusable): a connection left open
        # per environment would pile up over thousands of them.
        try:
            env.shutdown()
        except Exception:
            pass
    return result


def configuration_facts(env):
    """What Trac's own configuration says (trac-deploy keeps a verdict only for SQLite, by
    Trac's word): the database scheme only (never the URL: it may hold a password), the SQLite
    file, every configuration file Trac read ([inherit] file, recursively) and the plugins
    directories it loads from."""
    facts = {'databaseScheme': None, 'databaseFile': None, 'configFiles': [], 'pluginsDirs': []}
    try:
        url = env.config.get('trac', 'database') or ''
        scheme = url.split(':')[0]
        facts['databaseScheme'] = scheme
        if scheme == 'sqlite':
            name = url[len('sqlite:'):].split('?')[0]
            if name and name != ':memory:':
                facts['databaseFile'] = name if os.path.isabs(name) else os.path.join(env.path, name)
        seen = []
        pending = [env.config]
        while pending:
            config = pending.pop(0)
            filename = getattr(config, 'filename', None)
            if filename and filename not in seen:
                seen.append(filename)
                pending.extend(getattr(config, 'parents', None) or [])
        facts['configFiles'] = seen
        facts['pluginsDirs'] = [d for d in (env.plugins_dir, env.shared_plugins_dir) if d]
    except Exception:
        pass
    return facts


def answer_opened(env, path, log, captured, result):
    problems = result['problems']
    if log:
        problems.append(log)
    for message in captured.records:
        # trac.loader logs each plugin it skips: 'Skipping "name": reason' / 'Failed to load plugin from ...'
        if message.startswith('Skipping ') or message.startswith('Failed to load plugin'):
            result['plugins'].append(message.split('\n')[0])
            problems.append(problem('plugin-not-loaded', 'warning', '%s: a plugin does not load: %s' % (path, message.split('\n')[0]), path))
    del captured.records[:]
    try:
        if env.needs_upgrade():
            problems.append(problem('needs-upgrade', 'error',
                                    '%s: Trac says the environment needs an upgrade and will not serve it' % path, path,
                                    ['trac-admin %s upgrade' % path]))
            return
    except Exception as e:
        message = text_of(e).replace('<code>', '').replace('</code>', '')
        if 'permissions to the database file' in message:
            problems.append(problem('database-access', 'error', '%s: Trac cannot use the database: %s' % (path, message), path,
                                    ['give the database file and its directory to the web server user (chown)']))
        elif any(words in message for words in ('Unable to get database connection', 'could not connect',
                                                 'Connection refused', "Can't connect", 'timeout expired')):
            problems.append(problem('database-unreachable', 'error', '%s: Trac cannot reach the database: %s' % (path, message), path,
                                    ['start the database server, or check [trac] database in trac.ini']))
        else:
            problems.append(problem('database-unusable', 'error', '%s: Trac cannot use the database: %s' % (path, message), path))
        return
    result['opened'] = True
    try:
        result['project'] = env.project_name
        result['filesDir'] = env.files_dir
        result['xsendfile'] = {'on': env.config.getbool('trac', 'use_xsendfile'),
                               'header': env.config.get('trac', 'xsendfile_header') or 'X-Sendfile'}
    except Exception:
        pass
    result['repositories'] = check_repositories(env, problems)
    for repo in result['repositories']:
        if repo['error']:
            label = repo['name'] or '(default)'
            problems.append(problem('repository-unavailable', 'error',
                                    '%s: repository %s (%s) cannot be opened: %s' % (path, label, repo['type'], repo['error']), path))
    result['inputs'].extend(repo['dir'] for repo in result['repositories'] if repo['dir'])
    result['attachment'] = one_attachment(env, result['inputs'])


def remember_resolved_requirements():
    """Trac resolves every plugin entry point's requirements each time it opens an environment
    (trac.loader: entry.load(require=True)), which is nearly all of opening one. The preflight
    opens many in one process: a requirement set resolved once stays resolved (the working set
    only grows), so successes are remembered; a failure is remembered only while the working set
    is unchanged (a plugin egg added later could satisfy it), and raised again for each
    environment, which reports it."""
    try:
        import pkg_resources
    except Exception:
        return
    original = pkg_resources.EntryPoint.require
    working_set = pkg_resources.working_set
    resolved = set()
    failed = {}

    def size():
        return len(working_set.by_key)

    def require(self, env=None, installer=None):
        dist = self.dist
        if dist is None or env is not None or installer is not None:
            return original(self, env, installer)
        key = (dist.location, dist.project_name, dist.version, tuple(self.extras))
        if key in resolved:
            return None
        known = failed.get(key)
        if known is not None and known[0] == size():
            # Without its traceback: raised again as is, it would gather the frames (and so the
            # environments) of every environment that raised it.
            raise known[1].with_traceback(None)
        try:
            result = original(self, env, installer)
        except Exception as e:
            failed[key] = (size(), e)
            raise
        resolved.add(key)
        return result

    pkg_resources.EntryPoint.require = require

    # Then trac.loader resolves each entry point: an import of a module already imported and a
    # getattr, for every environment. A success is kept while sys.modules holds the same module.
    original_resolve = pkg_resources.EntryPoint.resolve
    found = {}

    def resolve(self):
        key = (self.module_name, self.attrs)
        known = found.get(key)
        if known is not None and sys.modules.get(self.module_name) is known[0]:
            return known[1]
        result = original_resolve(self)
        module = sys.modules.get(self.module_name)
        if module is not None:
            found[key] = (module, result)
        return result

    pkg_resources.EntryPoint.resolve = resolve


def remember_plugin_search():
    """trac.loader asks pkg_resources, for each environment, which eggs of its plugins
    directories can be activated (working_set.find_plugins). Without a full_env that call scans
    every directory on sys.path for distributions, each time: half of opening an environment.
    Here the scan of sys.path is made once per state of the working set (its entries), and
    passed as full_env, as pkg_resources allows; an environment whose plugins directories hold
    no egg gets the answer find_plugins gives for an empty plugin_env, ([], {}), at once. The
    answer for a set of eggs is remembered while the working set is unchanged (a resolution
    depends only on the eggs offered, the working set and full_env)."""
    try:
        import pkg_resources
    except Exception:
        return
    working_set = pkg_resources.working_set
    original = working_set.find_plugins
    full_envs = {}
    answers = {}

    def state():
        return (tuple(working_set.entries), len(working_set.by_key))

    def find_plugins(plugin_env, full_env=None, installer=None, fallback=True):
        if full_env is not None or installer is not None or not fallback:
            return original(plugin_env, full_env, installer, fallback)
        offered = tuple(sorted((dist.project_name, str(dist.version), dist.location)
                               for project in plugin_env for dist in plugin_env[project]))
        if not offered:
            return [], {}
        now = state()
        key = (now, offered)
        if key in answers:
            distributions, errors = answers[key]
            return list(distributions), dict(errors)
        if now[0] not in full_envs:
            full_envs.clear()
            full_envs[now[0]] = pkg_resources.Environment(working_set.entries)
        distributions, errors = original(plugin_env, full_envs[now[0]], installer, fallback)
        answers[key] = (list(distributions), dict(errors))
        return distributions, errors

    working_set.find_plugins = find_plugins


def requested_paths(request):
    """The environments: those of the first line, then one JSON string a line, as they come."""
    for path in request.get('environments') or []:
        yield path
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield json.loads(line)


def lighter_pristine_copy():
    """trac.config.Configuration keeps a deep copy of each parsed trac.ini (for save(), which the
    preflight never calls), made by copy.deepcopy through every option: a tenth of opening an
    environment. Options are strings, so copying each section's dict is the same deep copy;
    any other value falls back to Trac's own way."""
    try:
        from trac.config import UnicodeConfigParser
    except Exception:
        return
    original = UnicodeConfigParser.__deepcopy__

    def __deepcopy__(self, memo):
        sections = self._sections
        if not all(isinstance(value, str) or value is None
                   for options in sections.values() for value in options.values()):
            return original(self, memo)
        parser = self.__class__()
        parser._sections = {name: dict(options) for name, options in sections.items()}
        return parser

    UnicodeConfigParser.__deepcopy__ = __deepcopy__


class LazySectionProxies(dict):
    """A parser's _proxies (configparser's mapping access, parser[section]), each SectionProxy
    made when first asked for rather than for every section parsed: configparser reads _proxies
    only by key (parser[section]), assigns and deletes; Trac never asks for one."""
    __slots__ = ('parser', 'pending')

    def __missing__(self, key):
        if key in self.pending:
            import configparser
            self.pending.discard(key)
            proxy = self[key] = configparser.SectionProxy(self.parser, key)
            return proxy
        raise KeyError(key)

    def __delitem__(self, key):
        if key in self.pending:
            self.pending.discard(key)
        else:
            dict.__delitem__(self, key)

    def __setitem__(self, key, value):
        self.pending.discard(key)
        dict.__setitem__(self, key, value)


class KeptTexts(object):
    """Answers kept per text (a trac.ini section, a whole file), bounded by the bytes they hold
    rather than by their number: a text is kept only when seen a second time (a section unique
    to one environment, such as its own [repositories], is never kept), never one above a share
    of the budget, and all are let go when the budget would be exceeded. The cost of an answer
    is taken as three times its text's size (the text as key, its parsed names and values, the
    dicts holding them: about 2.5 times for a large section, measured), plus a constant."""
    SEEN_LIMIT = 8192

    def __init__(self, budget):
        self.budget = budget
        self.largest = budget // 16
        self.answers = {}
        self.size = 0
        self.seen = set()

    def get(self, text):
        return self.answers.get(text)

    def keep(self, text, answer):
        cost = 3 * sys.getsizeof(text) + 256
        if cost > self.largest:
            return
        mark = hash(text)
        if mark not in self.seen:
            if len(self.seen) >= self.SEEN_LIMIT:
                self.seen.clear()
            self.seen.add(mark)
            return
        self.seen.discard(mark)
        if self.size + cost > self.budget:
            self.answers.clear()
            self.size = 0
        self.answers[text] = answer
        self.size += cost


def remember_parsed_sections():
    """configparser reads trac.ini a line at a time through regular expressions: over a third
    of opening an environment. Environments mostly share their sections (initenv writes the same
    ones, and [inherit] files are shared): each section of a file is parsed once per process, by
    configparser itself, and its parsed options are reused for the same text.

    A file is the concatenation of its sections, each starting at a line that begins (column 0)
    with a section header, as configparser reads it: such a line can never continue a value
    (that needs more indentation than the option it continues, and nothing is indented less
    than column 0), so it resets everything the reading of the lines before it carried (the
    current section, option, indentation) and the section's own lines parse the same alone as
    within the file. What would tie sections together falls back to configparser reading the
    whole file as Trac does (which also gives its errors their line numbers): a section name
    twice in a file, [DEFAULT], a section header indented, anything but comments and blank lines
    before the first header, a section configparser rejects, a parser not made as Trac makes
    it, a read that fails. The first files of each process are read both ways and compared:
    a difference (another Python's configparser) turns this off for the process."""
    try:
        import configparser
        from trac.config import UnicodeConfigParser
    except Exception:
        return
    original_read = UnicodeConfigParser.read

    # What reads a file's lines into sections and options (Python 3.13 splits _read into the
    # _read_inner and _handle_* ones): a plugin that replaces any of them, or optionxform (the
    # case folding of option names), sends later reads back to configparser.
    parsing = ('optionxform', 'read_file', '_read', '_read_inner', '_join_multiline_values',
               '_handle_error', '_handle_continuation_line', '_handle_rest', '_handle_header',
               '_handle_option', '_raise_all')

    def settings(parser):
        cls = type(parser)
        own = vars(parser)
        return (cls, parser._ignorecase_option, parser._dict, parser._delimiters,
                parser._comment_prefixes, parser._inline_comment_prefixes, parser._strict,
                parser._allow_no_value, parser._empty_lines_in_values, parser.default_section,
                type(parser._interpolation), parser._optcre, parser.SECTCRE, parser.NONSPACECRE,
                tuple(getattr(cls, name, None) for name in parsing),
                tuple(name in own for name in parsing))

    try:
        reference = settings(UnicodeConfigParser())
        # sections_of looks for headers only in lines holding a "[": SECTCRE must start with one.
        if not re.match(r'\s*\\\[', UnicodeConfigParser.SECTCRE.pattern):
            return
    except Exception:
        return
    # A few MB per process at most (each of up to 8 workers keeps its own).
    parsed = KeptTexts(3 << 20)
    files = KeptTexts(3 << 20)
    state = {'checks': 2, 'on': True}

    def parse_section(lines, text):
        known = parsed.get(text)
        if known is None:
            alone = UnicodeConfigParser()
            alone.read_file(lines, '<section>')
            if alone._defaults or len(alone._sections) != 1:
                return None
            known = next(iter(alone._sections.items()))
            parsed.keep(text, known)
        return known

    def sections_of(parser, lines):
        """[(name, options)] in the file's order, or None: read the whole file as configparser does."""
        prefixes = parser._comment_prefixes
        header = parser.SECTCRE
        starts = []
        for number, line in enumerate(lines):
            # A section header starts with "[" (checked below, as SECTCRE is made).
            if '[' not in line:
                if starts:
                    continue
                stripped = line.strip()
                if not stripped or stripped.startswith(prefixes):
                    continue
                return None  # an option before any section: configparser's error
            stripped = line.strip()
            if not stripped or stripped.startswith(prefixes):
                continue
            if header.match(stripped):
                if line[0] != '[':
                    return None  # indented: it may continue a value
                starts.append(number)
            elif not starts:
                return None
        starts.append(len(lines))
        sections = []
        names = set()
        for first, end in zip(starts, starts[1:]):
            chunk = lines[first:end]
            known = parse_section(chunk, ''.join(chunk))
            if known is None or known[0] in names or known[0] == parser.default_section:
                return None
            names.add(known[0])
            sections.append(known)
        return sections

    def read(self, filename, encoding='utf-8'):
        if not state['on'] or not isinstance(filename, str) or self._sections or self._defaults:
            return original_read(self, filename, encoding)
        try:
            if settings(self) != reference:
                return original_read(self, filename, encoding)
            with open(filename, encoding=encoding) as fp:
                lines = fp.readlines()
            # A whole file seen before (an [inherit] file shared by many): its sections at once.
            whole = ''.join(lines)
            sections = files.get(whole)
            if sections is None:
                sections = sections_of(self, lines)
                if sections is not None:
                    files.keep(whole, sections)
        except Exception:
            sections = None
        if sections is None:
            return original_read(self, filename, encoding)
        if state['checks'] > 0:
            state['checks'] -= 1
            other = UnicodeConfigParser(ignorecase_option=self._ignorecase_option)
            original_read(other, filename, encoding)
            if list(other._sections.items()) != sections or other._defaults:
                state['on'] = False
                return original_read(self, filename, encoding)
        proxies = LazySectionProxies(self._proxies)
        proxies.parser = self
        proxies.pending = set()
        for name, options in sections:
            self._sections[name] = self._dict(options)
            proxies.pending.add(name)
        self._proxies = proxies
        return [filename]

    UnicodeConfigParser.read = read


def remember_converter_names():
    """configparser lists a parser's converters (its get* methods) from dir(parser) each time
    one is made: three parsers per environment. The list depends only on the attributes of the
    parser's classes (a new parser has no get* attribute of its own), so it is kept per class
    while none of its classes gains or loses an attribute (checked on each call)."""
    try:
        import configparser
        mapping = configparser.ConverterMapping
        original = mapping.__init__
        getter = mapping.GETTERCRE
    except Exception:
        return
    known = {}

    def __init__(self, parser):
        cls = type(parser)
        own = getattr(parser, '__dict__', None)
        if own is None or any(name.startswith('get') for name in own):
            return original(self, parser)
        key = (cls, tuple(len(vars(k)) for k in cls.__mro__))
        names = known.get(key)
        if names is None:
            original(self, parser)
            if not any(name.startswith('get') for name in vars(parser)):
                known[key] = tuple(self._data)
            return
        self._parser = parser
        self._data = dict.fromkeys(names)

    if getter.pattern == r"^get(?P<name>.+)$":
        mapping.__init__ = __init__


def remember_client_library_version():
    """Trac's PostgreSQL connector asks libpq for its version (ctypes.CDLL of the library, when
    psycopg2 does not say it) once per environment: the library loaded in this process is the
    same for all of them, so an answer found is kept (a failure is asked again, and logged)."""
    try:
        from trac.db.postgres_backend import PostgreSQLConnector
        from trac.util import lazy
    except Exception:
        return
    attribute = PostgreSQLConnector.__dict__.get('_client_version')
    if not isinstance(attribute, lazy):
        return
    ask = attribute.fn
    known = []

    def _client_version(self):
        if known:
            return known[0]
        version = ask(self)
        if version is not None:
            known.append(version)
        return version

    PostgreSQLConnector._client_version = lazy(_client_version)


def remember_workflow_parses():
    """ConfigurableTicketWorkflow parses [ticket-workflow] in each environment it is made for
    (parse_workflow_config, a pure function of the section's (name, value) pairs); the same
    pairs give the same actions, so each parse is kept and a copy handed out (the caller adds
    to it)."""
    try:
        from collections import defaultdict
        from trac.ticket import default_workflow
    except Exception:
        return
    original = getattr(default_workflow, 'parse_workflow_config', None)
    if original is None:
        return
    known = {}

    def plain(value):
        return value is None or isinstance(value, (str, int))

    def copy_of(actions):
        """A copy of each dict and list, one per original: a list Trac's parse gives several
        actions (the default permissions, operations, oldstates) stays one list shared by them
        in the copy, as copy.deepcopy keeps it (which takes twice as long, and longer than the
        parse)."""
        twins = {}

        def twin(value):
            if isinstance(value, (list, dict)):
                made = twins.get(id(value))
                if made is None:
                    made = twins[id(value)] = (list(value) if isinstance(value, list)
                                               else {key: twin(item) for key, item in value.items()})
                return made
            return value

        return defaultdict(dict, {name: twin(attributes) for name, attributes in actions.items()})

    def parse_workflow_config(rawactions):
        pairs = list(rawactions)
        if not all(isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
                   and isinstance(pair[1], str) for pair in pairs):
            return original(pairs)
        key = tuple(pairs)
        actions = known.get(key)
        if actions is None:
            actions = original(pairs)
            if not isinstance(actions, defaultdict) or not all(
                    isinstance(attributes, dict) and all(
                        plain(value) or (isinstance(value, list) and all(plain(item) for item in value))
                        for value in attributes.values())
                    for attributes in actions.values()):
                return actions
            if len(known) >= 256:
                known.clear()
            known[key] = copy_of(actions)
        return copy_of(actions)

    default_workflow.parse_workflow_config = parse_workflow_config


def main():
    request = json.loads(sys.stdin.readline() or '{}')
    for directory in request.get('siteDirs') or []:
        site.addsitedir(directory)
    first = {'kind': 'python', 'python': {'executable': sys.executable,
                                          'version': '%d.%d.%d' % tuple(sys.version_info[:3])},
             'user': None, 'trac': None, 'error': None}
    try:
        import pwd
        first['user'] = pwd.getpwuid(os.getuid()).pw_name
    except Exception:
        pass
    first['svn'] = svn_facts(request.get('svnBindings'))
    try:
        import trac
        import trac.env  # noqa: F401 (what dispatch_request imports)
        first['trac'] = trac.__version__
        # What the answers depend on beyond the environment (trac-deploy keeps a verdict only
        # while these are unchanged).
        first['path'] = [entry for entry in sys.path if entry]
        first['tracPackage'] = os.path.dirname(os.path.abspath(trac.__file__))
    except Exception as e:
        first['error'] = text_of(e)
        emit(first)
        emit({'kind': 'done'})
        return
    emit(first)
    # TRAC_DEPLOY_PREFLIGHT_PLAIN=1: none of what follows, Trac's code as it is (tests and the
    # benchmark compare the two).
    if os.environ.get('TRAC_DEPLOY_PREFLIGHT_PLAIN') != '1':
        remember_resolved_requirements()
        remember_plugin_search()
        lighter_pristine_copy()
        remember_parsed_sections()
        remember_converter_names()
        remember_client_library_version()
        remember_workflow_parses()
    stamps = request.get('stamps') is not False
    for counter, path in enumerate(requested_paths(request)):
        try:
            emit(check_environment(path, counter, stamps))
        except Exception as e:
            emit({'kind': 'environment', 'path': path, 'opened': False, 'repositories': [], 'plugins': [],
                  'problems': [problem('preflight-failed', 'error', '%s: %s' % (path, text_of(e)), path)]})
    emit({'kind': 'done'})


def exit_now(code):
    """Ends the process once the last answer is out, without the interpreter's teardown (with
    Trac and its plugins loaded, ~50 ms that trac-deploy would wait for; python/htdocs_dirs.py
    ends the same way). What a normal exit runs for others runs first: the atexit functions (a
    plugin's cleanup, logging's shutdown), then stdout and stderr are flushed."""
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
        main()
        status = 0
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            status = e.code or 0
        else:
            sys.stderr.write('%s\n' % e.code)
            status = 1
    exit_now(status)
