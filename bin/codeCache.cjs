'use strict';
// Loads dist/bundle/ (CommonJS, see scripts/bundle.mjs) with V8's code cache: each module's
// compiled code is kept in dist/bundle/.v8-cache/<file>-<sha256 of its text>-<command>-<node version>.bin
// (else, where dist/ is not ours to write, in the user's cache directory) and handed to V8 on the
// next run, which then neither parses nor compiles what it ran before. A cache V8 rejects (another
// Node, other flags) is written anew; one that cannot be written costs the next run time, never
// this run its result. Node 22's module.enableCompileCache does this for ES modules; Node 20
// (our floor) has only vm.Script's cachedData, which is why the bundle is CommonJS.
const Module = require('node:module');
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');

const BUNDLE = path.resolve(__dirname, '..', 'dist', 'bundle');
const MAX_CACHE = 16 * 1024 * 1024;

/** Directories a cache file may come from: ours (uid) or root's, closed to others' writes. */
function trusted(stat) {
  const uid = process.getuid ? process.getuid() : 0;
  return (stat.uid === uid || stat.uid === 0) && (stat.mode & 0o022) === 0;
}

function cacheDirectories() {
  const dirs = [path.join(BUNDLE, '.v8-cache')];
  const env = process.env;
  let user = null;
  if (env.TRAC_DEPLOY_CACHE_DIR) user = path.resolve(env.TRAC_DEPLOY_CACHE_DIR);
  else if (process.getuid && process.getuid() === 0) user = '/var/cache/trac-deploy';
  else user = path.join(env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache'), 'trac-deploy');
  dirs.push(path.join(user, 'v8'));
  return dirs;
}

function readCache(dirs, name) {
  for (const dir of dirs) {
    let fd;
    try {
      const dirStat = fs.lstatSync(dir);
      if (!dirStat.isDirectory() || !trusted(dirStat)) continue;
      fd = fs.openSync(path.join(dir, name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || !trusted(stat) || stat.size > MAX_CACHE) continue;
      return fs.readFileSync(fd);
    } catch {
      // absent or unreadable: the next one, or compile
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return undefined;
}

function writeCache(dirs, name, data) {
  for (const [index, dir] of dirs.entries()) {
    try {
      // Beside the bundle, readable by every user of this install; in a user's cache directory
      // (which the answer cache wants 0700 and its own, python/answerCache.ts), private.
      try {
        if (index === 0) fs.mkdirSync(dir, { mode: 0o755 });
        else fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (error) {
        if (error.code !== 'EEXIST') throw error;
      }
      const dirStat = fs.lstatSync(dir);
      if (!dirStat.isDirectory() || !trusted(dirStat)) continue;
      const temp = path.join(dir, `.${name}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
      const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
      try {
        fs.writeSync(fd, data);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, path.join(dir, name));
      return;
    } catch {
      // not ours to write: the next one
    }
  }
}

/**
 * Requires dist/bundle/<entry> with the code cache; returns its exports. `command` (the first
 * argument, e.g. generate) names the cache: V8 caches the functions the run that made it
 * compiled, so a cache made by `--version` would leave generate compiling yargs' parsing and
 * its own modules on every run. One cache per command, each made by its first run.
 */
const COMMANDS = new Set(['apply', 'ci', 'deploy', 'fleet', 'generate', 'init', 'inspect', 'smoke']);

function requireBundle(entry, command) {
  // trac-deploy's commands only: a typo or an unknown word shares 'other' (with --version and
  // --help) instead of adding a set of cache files of its own.
  const variant = COMMANDS.has(command) ? command : 'other';
  const dirs = cacheDirectories();
  const fresh = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function (content, filename) {
    if (path.dirname(filename) !== BUNDLE || process.env.TRAC_DEPLOY_NO_CODE_CACHE) return compile.call(this, content, filename);
    const hash = crypto.createHash('sha256').update(content).digest('hex').slice(0, 24);
    const name = `${path.basename(filename)}-${hash}-${variant}-${process.version}-${process.arch}.bin`;
    const cachedData = readCache(dirs, name);
    const script = new vm.Script(Module.wrap(content), { filename, ...(cachedData ? { cachedData } : {}) });
    if (!cachedData || script.cachedDataRejected) fresh.push({ script, name });
    const wrapper = script.runInThisContext({ displayErrors: true });
    const require = (id) => this.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, this, false, options);
    require.cache = Module._cache;
    require.main = process.mainModule;
    return wrapper.call(this.exports, this.exports, require, this, filename, path.dirname(filename));
  };
  // Made at exit: V8 then includes every function this run compiled, not only the top level.
  process.once('exit', () => {
    for (const { script, name } of fresh) {
      try {
        writeCache(dirs, name, script.createCachedData());
      } catch {
        // nothing kept
      }
    }
  });
  return require(path.join(BUNDLE, entry));
}

module.exports = { requireBundle };
