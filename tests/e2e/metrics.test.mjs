// metrics.test.mjs: GET /metrics speaks the Prometheus text format and its counters follow what happened.
import assert from 'node:assert/strict';
import { PG, api, e2e, eventually, fetchMetrics, startHookd, startReceiver } from './lib/harness.mjs';

/** Parse the text exposition format: every sample line is `name{labels} value`. */
function parseMetrics(text) {
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+]+)$/.exec(line);
    assert.ok(m, `a valid sample line: '${line}'`);
    samples.set(m[1] + (m[2] || ''), Number(m[3]));
  }
  return samples;
}

e2e('metrics: counters of messages, deliveries and commits', async (t) => {
  const h = await startHookd(t);
  const rcv = await startReceiver(t, [500, 200]);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'm' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  for (let i = 0; i < 3; i++)
    assert.equal((await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } })).status, 202);

  const res = await fetchMetrics(h);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  const first = parseMetrics(await res.text());
  assert.equal(first.get('hookd_messages_accepted_total'), 3);
  assert.ok(first.get('hookd_commit_batches_total') >= 1);
  assert.ok(first.get('hookd_commit_jobs_total') >= first.get('hookd_commit_batches_total'));

  const after = await eventually(async () => {
    const m = parseMetrics(await (await fetchMetrics(h)).text());
    assert.equal(m.get('hookd_deliveries_total{outcome="success"}'), 3);
    return m;
  }, { what: 'three successful deliveries counted' });
  assert.equal(after.get('hookd_deliveries_total{outcome="retry"}'), 1, 'the first 500 was retried');
  assert.equal(after.get('hookd_deliveries_total{outcome="fail"}'), 0);
  assert.equal(after.get('hookd_deliveries_inflight'), 0);
  // the outcomes (four attempts) commit in a lane of their own on PostgreSQL, in the main one on SQLite
  const lanes = await eventually(async () => {
    const m = parseMetrics(await (await fetchMetrics(h)).text());
    if (PG) assert.ok(m.get('hookd_commit_lane_batches_total{lane="outcomes"}') >= 1, 'outcomes committed in their lane');
    return m;
  }, { what: 'the outcomes committed' });
  const main = lanes.get('hookd_commit_lane_batches_total{lane="main"}');
  const out = lanes.get('hookd_commit_lane_batches_total{lane="outcomes"}');
  assert.ok(main >= 1);
  if (!PG) assert.equal(out, 0, 'SQLite: one writer, one lane');
  assert.equal(main + out, lanes.get('hookd_commit_batches_total'));
  assert.equal(await h.stop(), 0);
});

e2e('metrics: the exposition parses with a Prometheus text-format parser; histograms and endpoint series', async (t) => {
  const { default: parsePrometheusTextFormat } = await import('parse-prometheus-text-format');
  const h = await startHookd(t);
  const rcv = await startReceiver(t, [503, 200]);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'prom' })).json;
  const ep = (await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url })).json;
  for (let i = 0; i < 4; i++)
    await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  await rcv.waitForCount(5, 5000, 'four deliveries and one retry');
  const families = await eventually(async () => {
    const fams = parsePrometheusTextFormat(await (await fetchMetrics(h)).text());
    const ing = fams.find((f) => f.name === 'hookd_ingest_duration_seconds');
    assert.equal(ing.type, 'HISTOGRAM');
    assert.equal(Number(ing.metrics[0].count), 4);
    const att = fams.find((f) => f.name === 'hookd_attempt_duration_seconds');
    assert.equal(Number(att.metrics[0].count), 5);
    return fams;
  }, { what: 'ingest and attempt histograms counted' });
  const ing = families.find((f) => f.name === 'hookd_ingest_duration_seconds').metrics[0];
  const buckets = ing.buckets;
  assert.equal(Number(buckets['+Inf']), 4);
  const les = Object.keys(buckets).filter((k) => k !== '+Inf').map(Number).sort((a, b) => a - b);
  for (let i = 1; i < les.length; i++) // cumulative
    assert.ok(Number(buckets[String(les[i])]) >= Number(buckets[String(les[i - 1])]));
  assert.ok(Number(ing.sum) > 0 && Number(ing.sum) < 4 * 10);
  const per = families.find((f) => f.name === 'hookd_endpoint_deliveries_total');
  assert.equal(per.type, 'COUNTER');
  const mine = per.metrics.filter((m) => m.labels.endpoint === ep.id);
  const val = (o) => Number(mine.find((m) => m.labels.outcome === o).value);
  assert.equal(val('success'), 4);
  assert.equal(val('retry'), 1);
  assert.equal(val('fail'), 0);
  for (const name of ['hookd_deliveries_dead_letter', 'hookd_deliveries_pending_stored', 'hookd_messages_accepted_total', 'hookd_deliveries_total', 'hookd_deliveries_inflight',
    'hookd_deliveries_scheduled', 'hookd_commit_batches_total', 'hookd_api_request_duration_seconds'])
    assert.ok(families.some((f) => f.name === name), `${name} is exposed`);
  assert.equal(await h.stop(), 0);
});

e2e('metrics: the dead-letter gauge counts deliveries that failed for good', async (t) => {
  const h = await startHookd(t, { env: { HOOKD_RETRY_SCHEDULE: '20ms', HOOKD_CHORE_INTERVAL: '100ms' } });
  const rcv = await startReceiver(t, () => 500);
  const { req } = api(h);
  const app = (await req('POST', '/app', { name: 'dl' })).json;
  await req('POST', `/app/${app.id}/endpoint`, { url: rcv.url });
  for (let i = 0; i < 3; i++)
    await req('POST', `/app/${app.id}/msg`, { eventType: 'a.b', payload: { i } });
  await eventually(async () => {
    const m = parseMetrics(await (await fetchMetrics(h)).text());
    assert.equal(m.get('hookd_deliveries_dead_letter'), 3);
    assert.equal(m.get('hookd_deliveries_pending_stored'), 0);
  }, { what: 'three dead letters in the gauge' });
  assert.equal(await h.stop(), 0);
});

e2e('metrics: /metrics needs the API token unless --metrics-public', async (t) => {
  const h = await startHookd(t);
  for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: h.token }]) {
    const r = await fetch(`${h.url}/metrics`, { headers });
    assert.equal(r.status, 401, `${JSON.stringify(headers)}: ${r.status}`);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.equal((await r.json()).code, 'authentication_failed');
  }
  const ok = await fetchMetrics(h);
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /^hookd_messages_accepted_total 0$/m);
  assert.equal(await h.stop(), 0);

  const pub = await startHookd(t, { args: ['--metrics-public', 'true'] });
  const open = await fetch(`${pub.url}/metrics`);
  assert.equal(open.status, 200, 'no token needed');
  assert.match(await open.text(), /^hookd_messages_accepted_total 0$/m);
  const envPub = await startHookd(t, { env: { HOOKD_METRICS_PUBLIC: '1' } });
  assert.equal((await fetch(`${envPub.url}/metrics`)).status, 200, 'HOOKD_METRICS_PUBLIC=1 too');
  // the API itself still needs the token
  assert.equal((await fetch(`${pub.url}/api/v1/app`)).status, 401);
  assert.equal(await pub.stop(), 0);
  assert.equal(await envPub.stop(), 0);
});
