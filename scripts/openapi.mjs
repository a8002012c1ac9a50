// openapi.mjs [OUT]: hookd's OpenAPI 3.1 document, built from the compact description below and written to OUT
// (default docs/openapi.json, committed; the Makefile embeds that file in the binary, served at
// GET /api/v1/openapi.json). Run `node scripts/openapi.mjs` after changing an operation here; the unit test
// (tests/unit/test_openapi.c) checks it against src/api.c's route table both ways, and
// tests/e2e/openapi.test.mjs that the committed file is what this script makes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const str = (description, extra = {}) => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const time = (description) => str(description, { format: 'date-time' });
const int = (description, extra = {}) => ({ type: 'integer', ...(description ? { description } : {}), ...extra });
const bool = (description) => ({ type: 'boolean', ...(description ? { description } : {}) });
const arr = (items, extra = {}) => ({ type: 'array', items, ...extra });
const nullable = (s) => ({ anyOf: [s, { type: 'null' }] });
const obj = (properties, required = [], extra = {}) => ({ type: 'object', properties, ...(required.length ? { required } : {}), ...extra });
const map = (values = { type: 'string' }) => ({ type: 'object', additionalProperties: values });
const list = (item) => obj({ data: arr(ref(item)), iterator: nullable(str()), prevIterator: nullable(str()), done: bool() },
  ['data', 'iterator', 'done']);

const schemas = {
  Error: obj({ code: str('not_found, validation_error, forbidden, ...'), detail: { description: 'a sentence, or for a 422 a list of {loc, msg, type}' } }, ['code', 'detail']),
  ValidationError: obj({ code: str(null, { const: 'validation_error' }),
    detail: arr(obj({ loc: arr(str()), msg: str(), type: str() })) }, ['code', 'detail']),
  ApplicationIn: obj({ name: str(), uid: nullable(str('[a-zA-Z0-9-_.]{1,256}')), metadata: map(), throttleRate: nullable(int()), rateLimit: nullable(int('older name of throttleRate')) }, ['name']),
  ApplicationPatch: obj({ name: str(), uid: nullable(str()), metadata: map(), throttleRate: nullable(int()), rateLimit: nullable(int()) }),
  ApplicationOut: obj({ id: str('app_...'), uid: nullable(str()), name: str(), metadata: map(), throttleRate: nullable(int()), rateLimit: nullable(int()), createdAt: time(), updatedAt: time() }, ['id', 'name', 'createdAt', 'updatedAt']),
  SignatureScheme: str('hookd: how deliveries are signed (docs/signatures.md)', { enum: ['standard', 'svix', 'ed25519', 'stripe', 'split', 'github', 'shopify', 'slack', 'hmac'], default: 'standard' }),
  SignatureOptions: obj({ header: str('the signature header'), timestampHeader: str(), idHeader: str(), prefix: str(), hash: str(null, { enum: ['sha256', 'sha1', 'sha512'] }), encoding: str(null, { enum: ['base64', 'hex'] }) },
    [], { description: 'hookd: the scheme\'s header names and encodings ({"header":"X-FC-Signature"} makes a Stripe-like scheme under that name)' }),
  RetrySchedule: nullable(arr({ type: 'number', minimum: 0, maximum: 2592000 }, { maxItems: 32, description: 'hookd: delays between attempts in seconds; [] is one attempt; null is the server\'s --retry-schedule' })),
  PayloadFilter: nullable(obj({}, [], { description: 'hookd: a MongoDB-style query over the payload ($eq $ne $gt $gte $lt $lte $in $nin $exists $regex $not $and $or); null or {} removes it', additionalProperties: true })),
  EndpointIn: obj({
    url: str('https URL, or poll: / poll:<name> for a poller sink (hookd)', { format: 'uri' }), uid: nullable(str()), description: str(), disabled: bool(),
    eventTypes: nullable(arr(str())), filterTypes: nullable(arr(str('older name of eventTypes'))), channels: nullable(arr(str())), metadata: map(),
    throttleRate: nullable(int()), rateLimit: nullable(int()), version: int(), secret: nullable(str('^(whsec_)?[A-Za-z0-9+/=]{32,100}$; whsk_ for ed25519')), headers: map(),
    signatureScheme: ref('SignatureScheme'), signatureOptions: nullable(ref('SignatureOptions')), ordering: str('hookd: fifo delivers strictly in order', { enum: ['parallel', 'fifo'], default: 'parallel' }),
    retrySchedule: ref('RetrySchedule'), payloadFilter: ref('PayloadFilter'), apiVersion: nullable(str('hookd: the payload version the endpoint is pinned to (docs/versions.md)')),
  }, ['url']),
  EndpointOut: obj({
    id: str('ep_...'), uid: nullable(str()), url: str(), description: str(), disabled: bool(), eventTypes: nullable(arr(str())), filterTypes: nullable(arr(str())),
    channels: nullable(arr(str())), metadata: map(), throttleRate: nullable(int()), rateLimit: nullable(int()), version: int(), createdAt: time(), updatedAt: time(),
    signatureScheme: ref('SignatureScheme'), signatureOptions: nullable(ref('SignatureOptions')), ordering: str(null, { enum: ['parallel', 'fifo'] }),
    retrySchedule: ref('RetrySchedule'), payloadFilter: ref('PayloadFilter'), apiVersion: nullable(str()),
  }, ['id', 'url', 'createdAt', 'updatedAt']),
  EndpointSecretOut: obj({ key: str('whsec_... (whsk_... for ed25519)'), publicKey: str('hookd: whpk_..., ed25519 only') }, ['key']),
  EndpointSecretRotateIn: obj({ key: nullable(str()), gracePeriod: int('seconds the old secret keeps signing (default 86400, at most 604800); hookd') }),
  EndpointHeadersIn: obj({ headers: map() }, ['headers']),
  EndpointHeadersOut: obj({ headers: map(), sensitive: arr(str()) }, ['headers', 'sensitive']),
  EndpointStats: obj({ success: int(), pending: int(), sending: int(), fail: int(), canceled: int() }),
  TransformationIn: obj({ code: nullable(str('Lua (docs/transformations.md)')), enabled: bool() }),
  TransformationOut: obj({ code: nullable(str()), enabled: bool() }),
  TransformationSimulateIn: obj({ code: str(), payload: {}, eventType: str() }, ['code', 'payload']),
  TransformationSimulateOut: obj({ method: str(), url: str(), payload: {}, headers: map(), cancel: bool(), eventType: str() }),
  WindowIn: obj({ since: time(), until: time('default: now') }, ['since']),
  BulkReplayIn: obj({ since: time(), until: time(), eventTypes: arr(str()), channel: str(), tag: str(),
    status: nullable(int('MessageStatus of the latest delivery to the endpoint: 0 success, 1 pending, 2 fail, 3 sending, 4 canceled', { enum: [0, 1, 2, 3, 4] })),
    statusCodeClass: nullable(int('StatusCodeClass of the latest attempt to the endpoint (0: no HTTP answer)', { enum: [0, 100, 200, 300, 400, 500] })) }, ['since']),
  EventExampleIn: obj({ eventType: str('default webhook.test') }),
  FigureWindow: obj({ attempts: int(), success: int(), failed: int(), successRate: nullable({ type: 'number' }), avgMs: nullable({ type: 'number' }), p50Ms: nullable(int()), p95Ms: nullable(int()), p99Ms: nullable(int()),
    statusCodes: map({ type: 'integer' }), bucketMs: int('with ?series=true'), series: arr(obj({ start: time() }, [], { additionalProperties: true }), { description: 'with ?series=true: the window\'s buckets, oldest first' }) }),
  Breaker: obj({ state: nullable(str(null, { enum: ['closed', 'open', 'half-open'] })), thisNode: bool(), failures: int(), failingSince: nullable(time()), openedAt: nullable(time()), retryAt: nullable(time()), closedAt: nullable(time()) },
    [], { description: 'the circuit breaker as the node that sends for the endpoint knows it; another node answers {"state": null, "thisNode": false}' }),
  EndpointFigures: obj({ hour: ref('FigureWindow'), day: ref('FigureWindow'), week: ref('FigureWindow'), deadLetter: int(), pending: int(), breaker: ref('Breaker'),
    disabled: bool(), disabledAt: nullable(time()), disabledReason: nullable(str(null, { enum: ['gone', 'failing', 'manual'] })) }, [], { description: 'hookd: the endpoint\'s delivery figures (docs/api.md, "Endpoint figures")' }),
  MessageIn: obj({ eventType: str(), payload: {}, eventId: nullable(str()), channels: nullable(arr(str())), tags: nullable(arr(str())), application: ref('ApplicationIn'),
    payloadRetentionPeriod: int('days, 1-1825'), payloadRetentionHours: int(), deliverAt: time('hookd: hold the first attempt until then') }, ['eventType', 'payload']),
  MessageOut: obj({ id: str('msg_...'), eventType: str(), payload: {}, eventId: nullable(str()), channels: nullable(arr(str())), tags: nullable(arr(str())), timestamp: time(), deliverAt: time() }, ['id', 'eventType', 'payload', 'timestamp']),
  MessageEndpointOut: obj({ id: str(), url: str(), status: int('0 success, 1 pending, 2 fail, 3 sending, 4 canceled'), statusText: str(), nextAttempt: nullable(time()) }, [], { additionalProperties: true }),
  EndpointMessageOut: obj({ id: str(), eventType: str(), payload: {}, timestamp: time(), status: int(), statusText: str(), nextAttempt: nullable(time()) }, [], { additionalProperties: true }),
  BulkExpungeIn: obj({ ids: arr(str('a message id or eventId'), { maxItems: 250 }) }, ['ids']),
  BulkExpungeOut: obj({ results: map(str(null, { enum: ['expunged', 'not-found'] })) }, ['results'], { description: 'by id as given' }),
  PrecheckIn: obj({ eventType: str(), channels: nullable(arr(str())) }, ['eventType']),
  PrecheckOut: obj({ active: bool() }, ['active']),
  AttemptOut: obj({ id: str('atmpt_...'), msgId: str(), endpointId: str(), url: str(), response: str(), responseStatusCode: int('0: no HTTP answer'), responseDurationMs: int(),
    status: int('0 success, 1 pending, 2 fail, 3 sending, 4 canceled'), statusText: str(), triggerType: int('0 scheduled, 1 manual'), timestamp: time(),
    requestHeaders: map(str('hookd: the request as sent; sensitive values read [redacted]')), responseHeaders: map(str('hookd: the answer\'s headers')),
    requestBody: str('hookd: the body as sent when a transformation or api-version downgrade changed it'), requestMethod: str('hookd: PUT when a transformation chose it'), msg: ref('MessageOut') },
  ['id', 'msgId', 'endpointId', 'status', 'timestamp']),
  PollingOut: obj({ data: arr(obj({ id: str(), eventType: str(), payload: {}, channels: nullable(arr(str())), tags: nullable(arr(str())), eventId: nullable(str()), timestamp: time(), deliverAt: time() })), iterator: nullable(str()), done: bool() }, ['data', 'iterator', 'done']),
  PollingSeekIn: obj({ after: time() }, ['after']),
  PollingSeekOut: obj({ iterator: str() }, ['iterator']),
  EventTypeIn: obj({ name: str('[a-zA-Z0-9-_.]{1,256}'), description: str(), archived: bool(), deprecated: bool(), schemas: nullable(map({ type: 'object' })), featureFlag: nullable(str()), featureFlags: nullable(arr(str(), { maxItems: 1 })), groupName: nullable(str()) }, ['name']),
  EventTypeOut: obj({ name: str(), description: str(), archived: bool(), deprecated: bool(), schemas: nullable(map({ type: 'object' })), featureFlag: nullable(str()), featureFlags: nullable(arr(str())), groupName: nullable(str()), createdAt: time(), updatedAt: time() }, ['name', 'createdAt', 'updatedAt']),
  EventTypeImportIn: obj({ spec: { type: 'object', description: 'an OpenAPI 3.1 document: each webhooks entry becomes an event type' }, specRaw: str(), replaceAll: bool(), dryRun: bool() }),
  EventTypeImportOut: obj({ data: obj({ modified: arr(str()), to_modify: nullable(arr({})) }) }),
  ApiVersionIn: obj({ name: str('1-64 of [A-Za-z0-9._-]'), downgrade: nullable(str('Lua turning this version\'s payload into the one before')) }, ['name']),
  ApiVersionOut: obj({ name: str(), downgrade: nullable(str()), createdAt: time() }, ['name', 'createdAt']),
  TaskOut: obj({ id: str('qtask_...'), status: str(null, { enum: ['running', 'finished', 'failed'] }), task: str('endpoint.recover, endpoint.replay, endpoint.bulk-replay, application.stats, application.purge_content, event-type.aggregate, source.replay'),
    updatedAt: time(), data: { type: 'object', additionalProperties: true }, unresolvedAppIds: arr(str()) }, ['id', 'status', 'task']),
  AppUsageStatsIn: obj({ since: time(), until: time(), appIds: nullable(arr(str(), { maxItems: 50 })) }, ['since', 'until']),
  PortalAccessIn: obj({ expiry: int('seconds, up to 7 days'), capabilities: nullable(arr(str(null, { enum: ['ViewBase', 'ViewEndpointSecret', 'ManageEndpointSecret', 'ManageTransformations', 'CreateAttempts', 'ManageEndpoint'] }))),
    readOnly: bool(), featureFlags: arr(str()), sessionId: nullable(str()), application: ref('ApplicationIn'),
    theme: obj({ logoUrl: str(), primaryColor: str(), darkMode: str(null, { enum: ['auto', 'light', 'dark'] }) }, [], { description: 'hookd: the portal\'s theme, carried in the url\'s fragment' }) }),
  PortalAccessOut: obj({ url: str(), token: str('hkapp_...: an app-scoped token') }, ['url', 'token']),
  ExpireAllIn: obj({ expiry: nullable(int()), sessionIds: nullable(arr(str())) }),
  Destination: obj({ url: str(), headers: map(nullable(str())), retrySchedule: ref('RetrySchedule'), endpointId: str('output only') }, ['url']),
  SourceIn: obj({ name: str(), uid: nullable(str()), scheme: str(null, { enum: ['standard', 'svix', 'ed25519', 'stripe', 'github', 'shopify', 'slack', 'twilio', 'split', 'hmac', 'none'] }),
    publicUrl: str(), schemeOptions: ref('SignatureOptions'), secrets: arr(str(), { minItems: 1, maxItems: 8 }), tolerance: int(), dedup: obj({ header: str(), jsonPointer: str(), bodyHash: bool() }),
    dedupWindow: int(), maxBody: int(), contentTypes: arr(str()), destinations: arr(ref('Destination'), { minItems: 1, maxItems: 10 }) }, ['name', 'scheme', 'destinations'],
  { description: 'hookd: an inbound source, received at /in/{source} (docs/inbound.md)' }),
  SourceOut: obj({ id: str('src_...'), appId: str(), name: str(), uid: nullable(str()), scheme: str(), secretCount: int(), destinations: arr(ref('Destination')), createdAt: time(), updatedAt: time() }, ['id', 'name'], { additionalProperties: true }),
  SourceSecretsOut: obj({ secrets: arr(str()) }),
  SourceRequestOut: obj({ id: str('inr_...'), sourceId: str(), receivedAt: time(), method: str(), headers: map(), dedupKey: nullable(str()), verified: bool(), verification: str(),
    duplicate: bool(), msgId: nullable(str()), forwardStatus: str(null, { enum: ['none', 'pending', 'success', 'failed'] }), bodySize: int(), body: nullable(str('one request only')), bodyBase64: str() }),
  SourceReplayOut: obj({ id: str(), msgId: str(), destinations: int() }, [], { additionalProperties: true }),
  InboundOut: obj({ id: str('inr_...'), duplicate: bool() }, ['id', 'duplicate']),
  ReadyOut: obj({ status: str(), store: str(), migrations: str() }),
};

// Every operation: [method, path, tag, summary, {query, body, ok: [status, schema or null], auth, notes}].
const Q = {
  list: ['limit', 'iterator', 'order'],
  msgFilters: ['event_types', 'channel', 'tag', 'before', 'after', 'with_content'],
  attemptFilters: ['status', 'status_code_class', 'event_types', 'channel', 'tag', 'before', 'after', 'with_content'],
};
const params = {
  limit: int('1-250, default 50', { minimum: 1, maximum: 250 }), iterator: str('an id of the listed kind, or - and one (previous page)'), order: str(null, { enum: ['ascending', 'descending'] }),
  event_types: arr(str()), channel: str(), tag: str(), before: time(), after: time(), with_content: bool(), status: int('0-4'), status_code_class: int('0, 100, 200, 300, 400, 500'),
  get_if_exists: bool(), exclude_apps_with_no_endpoints: bool(), exclude_apps_with_disabled_endpoints: bool(), since: time(), until: time(), series: bool(),
  with_msg: bool(), endpoint_id: str(), include_archived: bool(), expunge: bool(), task: str(), event_type: str(),
};
const A = '/api/v1/app/{app_id}', E = `${A}/endpoint/{endpoint_id}`, M = `${A}/msg/{msg_id}`, P = `${A}/poller/{sink_id}`;
const OW = '/api/v1/operational-webhook/endpoint', S = '/api/v1/source/{source_id}';
const ops = [
  ['get', '/api/v1/health', 'Health', 'Is the server up', { auth: false, ok: [204, null], head: true }],
  ['get', '/api/v1/health/ping', 'Health', 'Ping', { auth: false, ok: [204, null], head: true }],
  ['get', '/api/v1/health/ready', 'Health', 'Ready: the store answers and its migrations ran (503 otherwise)', { auth: false, ok: [200, 'ReadyOut'], head: true, also: { 503: 'Error' } }],
  ['get', '/api/v1/openapi.json', 'Health', 'This document', { auth: false, ok: [200, { type: 'object' }] }],
  ['get', '/metrics', 'Health', 'Prometheus metrics (no token with --metrics-public)', { ok: [200, 'text'] }],
  ['post', '/in/{source_id}', 'Inbound', 'Receive a provider\'s webhook (hookd): verified with the source\'s scheme, deduplicated, forwarded to its destinations', { auth: false, body: 'any', ok: [200, 'InboundOut'], also: { 400: 'Error', 401: 'Error', 404: 'Error', 413: 'Error', 415: 'Error' } }],
  ['get', '/api/v1/app', 'Application', 'List applications', { query: [...Q.list, 'exclude_apps_with_no_endpoints', 'exclude_apps_with_disabled_endpoints'], ok: [200, list('ApplicationOut')], operator: true }],
  ['post', '/api/v1/app', 'Application', 'Create an application', { query: ['get_if_exists'], body: 'ApplicationIn', ok: [201, 'ApplicationOut'], operator: true }],
  ['get', A, 'Application', 'Get an application', { ok: [200, 'ApplicationOut'] }],
  ['put', A, 'Application', 'Update or create an application', { body: 'ApplicationIn', ok: [200, 'ApplicationOut'], also: { 201: 'ApplicationOut' }, operator: true }],
  ['patch', A, 'Application', 'Patch an application', { body: 'ApplicationPatch', ok: [200, 'ApplicationOut'], operator: true }],
  ['delete', A, 'Application', 'Delete an application', { ok: [204, null], operator: true }],
  ['get', `${A}/endpoint`, 'Endpoint', 'List endpoints', { query: Q.list, ok: [200, list('EndpointOut')] }],
  ['post', `${A}/endpoint`, 'Endpoint', 'Create an endpoint (url poll: makes a poller sink)', { body: 'EndpointIn', ok: [201, 'EndpointOut'], cap: 'ManageEndpoint' }],
  ['get', E, 'Endpoint', 'Get an endpoint', { ok: [200, 'EndpointOut'] }],
  ['put', E, 'Endpoint', 'Update or create an endpoint', { body: 'EndpointIn', ok: [200, 'EndpointOut'], also: { 201: 'EndpointOut' }, cap: 'ManageEndpoint' }],
  ['patch', E, 'Endpoint', 'Patch an endpoint', { body: 'EndpointIn', ok: [200, 'EndpointOut'], cap: 'ManageEndpoint' }],
  ['delete', E, 'Endpoint', 'Delete an endpoint', { ok: [204, null], cap: 'ManageEndpoint' }],
  ['get', `${E}/secret`, 'Endpoint', 'Get the signing secret', { ok: [200, 'EndpointSecretOut'], cap: 'ViewEndpointSecret' }],
  ['post', `${E}/secret/rotate`, 'Endpoint', 'Rotate the secret; old ones keep signing for gracePeriod', { body: 'EndpointSecretRotateIn', ok: [204, null], cap: 'ManageEndpointSecret' }],
  ['get', `${E}/stats`, 'Endpoint', 'Delivery counts by status', { query: ['since', 'until'], ok: [200, 'EndpointStats'] }],
  ['get', `${E}/figures`, 'Endpoint', 'Figures of the last hour, day and week, the breaker (hookd)', { query: ['series'], ok: [200, 'EndpointFigures'] }],
  ['get', `${E}/msg`, 'Message Attempt', 'Messages sent to an endpoint, with their delivery status', { query: [...Q.list, 'status', ...Q.msgFilters], ok: [200, list('EndpointMessageOut')] }],
  ['get', `${E}/headers`, 'Endpoint', 'Get the custom headers', { ok: [200, 'EndpointHeadersOut'] }],
  ['put', `${E}/headers`, 'Endpoint', 'Replace the custom headers', { body: 'EndpointHeadersIn', ok: [204, null], cap: 'ManageEndpoint' }],
  ['patch', `${E}/headers`, 'Endpoint', 'Merge the custom headers (null removes one)', { body: 'EndpointHeadersIn', ok: [204, null], cap: 'ManageEndpoint' }],
  ['get', `${E}/transformation`, 'Endpoint', 'Get the Lua transformation', { ok: [200, 'TransformationOut'], cap: 'ManageTransformations' }],
  ['patch', `${E}/transformation`, 'Endpoint', 'Set the Lua transformation (422 with Lua\'s message)', { body: 'TransformationIn', ok: [204, null], cap: 'ManageTransformations' }],
  ['post', `${E}/transformation/simulate`, 'Endpoint', 'Run a transformation on a payload (400 transformation_failed)', { body: 'TransformationSimulateIn', ok: [200, 'TransformationSimulateOut'], cap: 'ManageTransformations' }],
  ['post', `${E}/send-example`, 'Endpoint', 'Send an example message of an event type', { body: 'EventExampleIn', ok: [202, 'MessageOut'], cap: 'CreateAttempts' }],
  ['post', `${E}/recover`, 'Endpoint', 'Resend the failed deliveries of a window (background task)', { body: 'WindowIn', ok: [202, 'TaskOut'], cap: 'CreateAttempts' }],
  ['post', `${E}/replay-missing`, 'Endpoint', 'Deliver the messages of a window the endpoint never got (background task)', { body: 'WindowIn', ok: [202, 'TaskOut'], cap: 'CreateAttempts' }],
  ['post', `${E}/bulk-replay`, 'Endpoint', 'Deliver every message of a window again (background task)', { body: 'BulkReplayIn', ok: [202, 'TaskOut'], cap: 'CreateAttempts' }],
  ['get', `${A}/msg`, 'Message', 'List messages', { query: [...Q.list, ...Q.msgFilters], ok: [200, list('MessageOut')] }],
  ['post', `${A}/msg`, 'Message', 'Create a message (answered after the commit)', { query: ['with_content'], body: 'MessageIn', ok: [202, 'MessageOut'], also: { 409: 'Error' }, operator: true }],
  ['post', `${A}/msg/precheck/active`, 'Message', 'Would an enabled endpoint take this event type and channels', { body: 'PrecheckIn', ok: [200, 'PrecheckOut'] }],
  ['post', `${A}/msg/expunge-all-contents`, 'Message', 'Drop every payload of the app (background task)', { ok: [202, 'TaskOut'], operator: true }],
  ['post', `${A}/msg/bulk-expunge`, 'Message', 'Drop the payloads of the given messages (one transaction)', { body: 'BulkExpungeIn', ok: [200, 'BulkExpungeOut'], operator: true }],
  ['get', M, 'Message', 'Get a message (id or eventId)', { query: ['with_content'], ok: [200, 'MessageOut'] }],
  ['get', `${M}/attempt/{attempt_id}`, 'Message Attempt', 'Get an attempt', { ok: [200, 'AttemptOut'] }],
  ['delete', `${M}/attempt/{attempt_id}/content`, 'Message Attempt', 'Drop an attempt\'s response body', { ok: [204, null], operator: true }],
  ['get', `${M}/endpoint`, 'Message Attempt', 'The endpoints a message went to, with their delivery status', { query: Q.list, ok: [200, list('MessageEndpointOut')] }],
  ['post', `${M}/endpoint/{endpoint_id}/resend`, 'Message Attempt', 'One manual attempt, filters bypassed', { ok: [202, { type: 'object' }], cap: 'CreateAttempts' }],
  ['delete', `${M}/content`, 'Message', 'Drop a message\'s payload', { ok: [204, null], operator: true }],
  ['get', P, 'Message', 'Read a poller sink\'s messages after an iterator (409 endpoint_disabled: the sink is disabled)', { query: ['iterator', 'limit', 'event_type', 'channel', 'after'], ok: [200, 'PollingOut'], also: { 409: 'Error' } }],
  ['get', `${P}/consumer/{consumer_id}`, 'Message', 'Read as a consumer: the iterator is committed as its cursor first', { query: ['iterator', 'limit'], ok: [200, 'PollingOut'], also: { 409: 'Error' } }],
  ['post', `${P}/consumer/{consumer_id}/seek`, 'Message', 'Move a consumer\'s cursor to a time', { body: 'PollingSeekIn', ok: [200, 'PollingSeekOut'], also: { 409: 'Error' } }],
  ['get', `${A}/attempt/endpoint/{endpoint_id}`, 'Message Attempt', 'Attempts of an endpoint', { query: [...Q.list, ...Q.attemptFilters, 'with_msg'], ok: [200, list('AttemptOut')] }],
  ['get', `${A}/attempt/msg/{msg_id}`, 'Message Attempt', 'Attempts of a message', { query: [...Q.list, ...Q.attemptFilters, 'endpoint_id'], ok: [200, list('AttemptOut')] }],
  ['get', '/api/v1/source', 'Source', 'List inbound sources (hookd)', { query: Q.list, ok: [200, list('SourceOut')], operator: true }],
  ['post', '/api/v1/source', 'Source', 'Create an inbound source (hookd)', { body: 'SourceIn', ok: [201, 'SourceOut'], operator: true }],
  ['get', S, 'Source', 'Get a source', { ok: [200, 'SourceOut'], operator: true }],
  ['patch', S, 'Source', 'Patch a source', { body: 'SourceIn', ok: [200, 'SourceOut'], operator: true }],
  ['delete', S, 'Source', 'Delete a source', { ok: [204, null], operator: true }],
  ['get', `${S}/request`, 'Source', 'Requests received by a source, newest first', { query: Q.list, ok: [200, list('SourceRequestOut')], operator: true }],
  ['get', `${S}/request/{request_id}`, 'Source', 'One received request, with its body', { ok: [200, 'SourceRequestOut'], operator: true }],
  ['post', `${S}/request/{request_id}/replay`, 'Source', 'Forward a received request again', { ok: [202, 'SourceReplayOut'], also: { 409: 'Error', 410: 'Error' }, operator: true }],
  ['post', `${S}/replay`, 'Source', 'Forward the requests of a window again (background task)', { body: 'WindowIn', ok: [202, 'TaskOut'], operator: true }],
  ['get', `${S}/secret`, 'Source', 'The provider\'s secrets', { ok: [200, 'SourceSecretsOut'], operator: true }],
  ['post', '/api/v1/stats/usage/app', 'Statistics', 'Deliveries per app over a window (a finished background task)', { body: 'AppUsageStatsIn', ok: [202, 'TaskOut'], operator: true }],
  ['put', '/api/v1/stats/usage/event-types', 'Statistics', 'The event types endpoints subscribe to (a finished background task; its data: {eventTypes: [{name, endpoints}], endpoints, endpointsWithoutFilter})', { ok: [202, 'TaskOut'], operator: true }],
  ['get', '/api/v1/background-task', 'Background Task', 'List background tasks, newest first', { query: [...Q.list, 'status', 'task'], ok: [200, list('TaskOut')], operator: true }],
  ['get', '/api/v1/background-task/{task_id}', 'Background Task', 'Get a background task', { ok: [200, 'TaskOut'] }],
  ['get', '/api/v1/event-type', 'Event Type', 'List event types (by name)', { query: [...Q.list, 'include_archived', 'with_content'], ok: [200, list('EventTypeOut')] }],
  ['post', '/api/v1/event-type', 'Event Type', 'Create an event type (an archived one comes back)', { body: 'EventTypeIn', ok: [201, 'EventTypeOut'], also: { 409: 'Error' }, operator: true }],
  ['post', '/api/v1/event-type/import/openapi', 'Event Type', 'Event types from an OpenAPI 3.1 document\'s webhooks', { body: 'EventTypeImportIn', ok: [200, 'EventTypeImportOut'], operator: true }],
  ['get', '/api/v1/event-type/{event_type_name}', 'Event Type', 'Get an event type', { ok: [200, 'EventTypeOut'] }],
  ['put', '/api/v1/event-type/{event_type_name}', 'Event Type', 'Update or create an event type', { body: 'EventTypeIn', ok: [200, 'EventTypeOut'], also: { 201: 'EventTypeOut' }, operator: true }],
  ['patch', '/api/v1/event-type/{event_type_name}', 'Event Type', 'Patch an event type', { body: 'EventTypeIn', ok: [200, 'EventTypeOut'], operator: true }],
  ['delete', '/api/v1/event-type/{event_type_name}', 'Event Type', 'Archive an event type (?expunge=true deletes it)', { query: ['expunge'], ok: [204, null], operator: true }],
  ['post', '/api/v1/auth/app-portal-access/{app_id}', 'Authentication', 'An app-scoped token and the portal\'s URL', { body: 'PortalAccessIn', ok: [200, 'PortalAccessOut'], operator: true }],
  ['post', '/api/v1/auth/dashboard-access/{app_id}', 'Authentication', 'Svix\'s deprecated form of app-portal-access', { ok: [200, 'PortalAccessOut'], operator: true }],
  ['post', '/api/v1/auth/app/{app_id}/expire-all', 'Authentication', 'Expire the app\'s tokens', { body: 'ExpireAllIn', ok: [204, null], operator: true }],
  ['post', '/api/v1/auth/logout', 'Authentication', 'Revoke the app-scoped token this request carries', { ok: [204, null] }],
  ['get', OW, 'Webhook Endpoint', 'List operational webhook endpoints', { query: Q.list, ok: [200, list('EndpointOut')], operator: true }],
  ['post', OW, 'Webhook Endpoint', 'Create an operational webhook endpoint (filterTypes: the operational events it takes)', { body: 'EndpointIn', ok: [201, 'EndpointOut'], operator: true }],
  ['get', `${OW}/{endpoint_id}`, 'Webhook Endpoint', 'Get an operational webhook endpoint', { ok: [200, 'EndpointOut'], operator: true }],
  ['put', `${OW}/{endpoint_id}`, 'Webhook Endpoint', 'Update an operational webhook endpoint', { body: 'EndpointIn', ok: [200, 'EndpointOut'], operator: true }],
  ['delete', `${OW}/{endpoint_id}`, 'Webhook Endpoint', 'Delete an operational webhook endpoint', { ok: [204, null], operator: true }],
  ['get', `${OW}/{endpoint_id}/secret`, 'Webhook Endpoint', 'Get its secret', { ok: [200, 'EndpointSecretOut'], operator: true }],
  ['post', `${OW}/{endpoint_id}/secret/rotate`, 'Webhook Endpoint', 'Rotate its secret', { body: 'EndpointSecretRotateIn', ok: [204, null], operator: true }],
  ['get', `${OW}/{endpoint_id}/headers`, 'Webhook Endpoint', 'Get its headers', { ok: [200, 'EndpointHeadersOut'], operator: true }],
  ['put', `${OW}/{endpoint_id}/headers`, 'Webhook Endpoint', 'Replace its headers', { body: 'EndpointHeadersIn', ok: [204, null], operator: true }],
  ['patch', `${OW}/{endpoint_id}/headers`, 'Webhook Endpoint', 'Merge its headers', { body: 'EndpointHeadersIn', ok: [204, null], operator: true }],
  ['get', '/api/v1/api-version', 'API Version', 'List payload versions, newest first (hookd, docs/versions.md)', { query: Q.list, ok: [200, list('ApiVersionOut')] }],
  ['post', '/api/v1/api-version', 'API Version', 'Add a payload version with its Lua downgrade (hookd)', { body: 'ApiVersionIn', ok: [201, 'ApiVersionOut'], operator: true }],
  ['get', '/api/v1/api-version/{version_name}', 'API Version', 'Get a payload version', { ok: [200, 'ApiVersionOut'] }],
  ['patch', '/api/v1/api-version/{version_name}', 'API Version', 'Change a version\'s downgrade', { body: 'ApiVersionIn', ok: [200, 'ApiVersionOut'], operator: true }],
  ['delete', '/api/v1/api-version/{version_name}', 'API Version', 'Delete a payload version', { ok: [204, null], operator: true }],
];

const errors = {
  400: 'malformed JSON (generic_error) or a NUL byte in the URL (bad_request)', 401: 'no valid token', 403: 'an app-scoped token outside its scope or capabilities',
  404: 'no such route, or the entity the path names is missing (the detail names it)', 409: 'a uid or eventId taken', 410: 'gone', 413: 'the body is over --max-body', 415: 'unsupported media type',
  503: 'the store cannot be reached, or the node is stopping: nothing was written',
};
const content = (s) => (s === 'text' ? { 'text/plain': { schema: { type: 'string' } } }
  : { 'application/json': { schema: typeof s === 'string' ? ref(s) : s } });

function operation([method, path, tag, summary, o]) {
  const op = { tags: [tag], summary, operationId: `${method}_${path.replace(/^\/(api\/v1\/)?/, '').replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+/g, '_')}` };
  const ps = [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true,
    schema: str(m[1] === 'app_id' || m[1] === 'endpoint_id' || m[1] === 'source_id' ? 'the id or the uid' : null) }));
  for (const q of o.query || []) {
    const p = { name: q, in: 'query', required: false, schema: params[q] };
    if (q === 'event_types') { p.style = 'form'; p.explode = true; }
    ps.push(p);
  }
  if (method === 'post' && path.startsWith('/api/v1/')) ps.push({ name: 'idempotency-key', in: 'header', required: false, schema: str('the same key on the same path within 12 hours gets the first answer again') });
  if (ps.length) op.parameters = ps;
  if (o.body === 'any') op.requestBody = { required: true, content: { '*/*': { schema: {} } } };
  else if (o.body) op.requestBody = { required: true, content: content(o.body) };
  const [status, schema] = o.ok;
  op.responses = { [status]: schema === null ? { description: 'done' } : { description: 'done', content: content(schema) } };
  for (const [s, sch] of Object.entries(o.also || {})) op.responses[s] = { description: errors[s] || 'also', content: content(sch) };
  if (o.auth !== false) {
    op.responses[401] = { $ref: '#/components/responses/Error' };
    if (!path.startsWith('/metrics')) op.responses[403] = { $ref: '#/components/responses/Error' };
  }
  if (path.startsWith('/api/v1/') && o.auth !== false) {
    op.responses[404] = { $ref: '#/components/responses/Error' };
    if (o.body && o.body !== 'any') op.responses[422] = { $ref: '#/components/responses/ValidationError' };
    op.responses[503] = { $ref: '#/components/responses/Error' };
  }
  if (o.auth === false) op.security = [];
  op['x-hookd-app-token'] = o.auth === false ? 'none needed' : o.operator ? 'operator only'
    : path.startsWith(A) || path.startsWith('/api/v1/background-task/') || path.startsWith('/api/v1/event-type') || path.startsWith('/api/v1/api-version') || path === '/api/v1/auth/logout'
      ? (o.cap || 'ViewBase') : 'operator only';
  return op;
}

export function build() {
  const paths = {};
  for (const o of ops) {
    const p = (paths[o[1]] ||= {});
    p[o[0]] = operation(o);
    if (o[4].head) p.head = { ...operation(o), operationId: `head_${p[o[0]].operationId.slice(4)}` };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'hookd', version: '1',
      description: 'hookd\'s management API: Svix\'s v1 API (the official Svix SDKs work unchanged) with hookd\'s extensions: '
        + 'signature schemes and signatureOptions, retrySchedule, ordering, throttleRate, payloadFilter, apiVersion and /api-version, '
        + 'Lua transformations, endpoint figures with series and the breaker, inbound sources and /in/{source}, poller sinks, '
        + 'app-scoped tokens with capabilities (x-hookd-app-token on each operation: the capability such a token needs), '
        + 'requestHeaders/responseHeaders/requestBody on attempts, background tasks. Reference: docs/api.md; Svix parity: docs/svix-compat.md. '
        + 'Ids and uids: {app_id}, {endpoint_id} and {source_id} take either. Lists page with limit, iterator (prevIterator for the previous page) and order.',
      license: { name: 'see the repository' },
    },
    servers: [{ url: 'http://127.0.0.1:8071', description: 'hookd\'s default listen address' }],
    security: [{ bearer: [] }],
    tags: ['Health', 'Application', 'Endpoint', 'Message', 'Message Attempt', 'Event Type', 'Authentication', 'Background Task', 'Statistics', 'Webhook Endpoint', 'Source', 'Inbound', 'API Version']
      .map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the operator\'s token (--token), or an app-scoped hkapp_ token' } },
      responses: {
        Error: { description: 'an error: {"code","detail"}', content: content('Error') },
        ValidationError: { description: 'a body or query parameter that does not validate', content: content('ValidationError') },
      },
      schemas,
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] || new URL('../docs/openapi.json', import.meta.url);
  writeFileSync(out, JSON.stringify(build(), null, 1) + '\n');
}
