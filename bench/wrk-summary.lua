-- wrk script for bench/production.bench.mjs: no per-request hook (wrk stays at full speed); at the
-- end one line of JSON with the counts the benchmark checks (requests, bytes read, every error
-- kind, non-2xx/3xx statuses) and the latency percentiles in microseconds.
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK_SUMMARY {"requests":%d,"bytes":%d,"seconds":%f,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.bytes, summary.duration / 1e6, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.errors.status, latency:percentile(50),
    latency:percentile(99)))
end
