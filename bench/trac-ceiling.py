"""Trac's own ceiling for bench/production.bench.mjs: dispatch_request called directly, no server.

Derived from ../shared/trac-ceiling.py (the same WSGI environ, minus the session cookie, which
wrk does not send either), made fit for an interleaved benchmark:
- one parent imports Trac once, then forks PROCESSES workers (as many as the mod_wsgi daemon
  has); all of them stay in the parent's session, so on a kernel with autogroup scheduling the
  ceiling gets the same CPU share as one server started in its own session (a server that is
  measured with its client in another session has one share more: run this detached);
- the workers stay alive between measurements: Python start-up and Trac's import are never
  timed, and each path is warmed up (WARMUP requests per worker) before its first measurement;
- every measured response is checked (status 200 and the marker text in the body); the answer
  says how many were not.

    VENV/bin/python trac-ceiling.py ENV PROCESSES
stdin, one line per measurement: {"path": "/wiki/WikiStart", "seconds": 5, "marker": "..."}
stdout, one line per measurement: {"requests", "seconds", "bad", "cpu_ms", "p99_ms", "length", "status"}
"""
import io
import json
import os
import sys
import time

WARMUP = 5
env_path, processes = sys.argv[1], int(sys.argv[2])
os.environ.setdefault('PYTHON_EGG_CACHE', os.path.join(env_path, '.egg-cache'))
from trac.web.main import dispatch_request  # noqa: E402


def one(path):
    environ = {
        'REQUEST_METHOD': 'GET', 'PATH_INFO': path, 'SCRIPT_NAME': '/trac', 'QUERY_STRING': '',
        'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '80', 'HTTP_HOST': '127.0.0.1',
        'SERVER_PROTOCOL': 'HTTP/1.1', 'REMOTE_ADDR': '127.0.0.1',
        'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(b''), 'wsgi.errors': sys.stderr,
        'wsgi.version': (1, 0), 'wsgi.multithread': False, 'wsgi.multiprocess': True,
        'wsgi.run_once': False, 'trac.env_path': env_path,
    }
    status, written = [], []

    def start_response(s, headers, exc_info=None):
        status.append(s)
        return written.append

    result = dispatch_request(environ, start_response)
    try:
        body = b''.join(written) + b''.join(result)
    finally:
        if hasattr(result, 'close'):
            result.close()
    return status[0], body


def worker(commands, answers):
    warm = set()
    for line in commands:
        job = json.loads(line)
        path, marker = job['path'], job['marker'].encode()
        if path not in warm:
            for _ in range(WARMUP):
                one(path)
            warm.add(path)
        answers.write('ready\n')
        answers.flush()
        start = float(commands.readline())  # the same wall-clock start for every worker
        while time.time() < start:
            time.sleep(0.001)
        end = start + job['seconds']
        n, bad, latencies, status, length = 0, 0, [], '', 0
        c0 = time.process_time()
        while time.time() < end:
            t = time.perf_counter()
            status, body = one(path)
            latencies.append(time.perf_counter() - t)
            length = len(body)
            n += 1
            if not status.startswith('200') or marker not in body:
                bad += 1
        cpu = time.process_time() - c0
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0
        answers.write(json.dumps({'requests': n, 'seconds': job['seconds'], 'bad': bad, 'cpu_ms': cpu * 1000,
                                  'p99_ms': p99 * 1000, 'length': length, 'status': status}) + '\n')
        answers.flush()


children = []
for _ in range(processes):
    down_r, down_w = os.pipe()
    up_r, up_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(down_w)
        os.close(up_r)
        worker(os.fdopen(down_r), os.fdopen(up_w, 'w'))
        os._exit(0)
    os.close(down_r)
    os.close(up_w)
    children.append((os.fdopen(down_w, 'w'), os.fdopen(up_r)))

for line in sys.stdin:
    for down, _ in children:
        down.write(line)
        down.flush()
    for _, up in children:
        if up.readline().strip() != 'ready':
            sys.exit('a ceiling worker died')
    start = time.time() + 0.2
    for down, _ in children:
        down.write('%f\n' % start)
        down.flush()
    results = [json.loads(up.readline()) for _, up in children]
    print(json.dumps({
        'requests': sum(r['requests'] for r in results),
        'seconds': max(r['seconds'] for r in results),
        'bad': sum(r['bad'] for r in results),
        'cpu_ms': sum(r['cpu_ms'] for r in results),
        'p99_ms': max(r['p99_ms'] for r in results),
        'length': results[0]['length'],
        'status': results[0]['status'],
    }), flush=True)
for down, _ in children:
    down.close()
for _ in children:
    os.wait()
