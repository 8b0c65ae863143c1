/**
 * The OpenAPI 3.1 document of the control and observation API, served at `GET /api/openapi.json`.
 * Its schemas are the contract clients (the Python `EbbtideCluster`, scripts) rely on; a test
 * calls every operation and validates each answer against them.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const int = { type: 'integer', minimum: 0 };
const num = { type: 'number' };
const str = { type: 'string' };
const strings = { type: 'array', items: str };
const duration = { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: '^[0-9.]+(us|ms|s|m|h|d)?$' }], description: 'seconds, or a duration such as "500ms", "2s", "1.5m"' };
const intOrInf = { anyOf: [int, { const: 'inf' }], description: 'a whole number, or "inf" for no bound' };

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const secured = {
  '401': error('dashboard.token is set and the request does not carry it'),
  '403': error('no token is set and the Host header does not name this machine (DNS rebinding guard)'),
};

const schemas = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str } } },
  },
  ScalingState: {
    type: 'object',
    required: ['mode', 'minimum', 'maximum'],
    properties: { mode: { enum: ['adaptive', 'manual'] }, minimum: int, maximum: intOrInf, n: int },
  },
  Status: {
    type: 'object',
    required: ['repr', 'cluster', 'scheduler', 'backends', 'workers', 'threads', 'memory', 'tasks', 'plan', 'requested', 'observed', 'adaptive', 'mode', 'manual', 'blind', 'capacityLimited', 'lastTick', 'time', 'uptime', 'version'],
    properties: {
      repr: { ...str, description: 'EbbtideCluster(name, scheduler, workers=N, threads=T, memory=M)' },
      cluster: str,
      scheduler: { type: 'object', required: ['type', 'address', 'connected'], properties: { type: str, address: { type: ['string', 'null'] }, connected: { type: 'boolean' } } },
      backends: { type: 'array', items: { type: 'object', required: ['pool', 'type'], properties: { pool: str, type: str } } },
      workers: int,
      threads: int,
      memory: { type: 'object', required: ['used', 'limit'], properties: { used: int, limit: int }, description: 'bytes; limit 0 = none' },
      tasks: { type: 'object', required: ['queued', 'processing', 'unrunnable'], properties: { queued: int, processing: int, unrunnable: int } },
      plan: strings,
      requested: strings,
      observed: strings,
      adaptive: {
        type: 'object',
        required: ['interval', 'minimum', 'maximum', 'waitCount', 'targetDuration', 'historyLength'],
        properties: {
          interval: { ...num, description: 'seconds between ticks' },
          minimum: int,
          maximum: intOrInf,
          waitCount: int,
          targetDuration: { ...num, description: 'seconds (set through /api/adapt, else adaptive.targetDuration)' },
          historyLength: int,
        },
      },
      mode: { enum: ['adaptive', 'manual'] },
      manual: { anyOf: [{ type: 'null' }, { type: 'object', required: ['n'], properties: { n: int } }] },
      blind: { anyOf: [{ type: 'null' }, { type: 'object', required: ['since', 'seconds'], properties: { since: num, seconds: num } }] },
      capacityLimited: { anyOf: [{ type: 'null' }, { type: 'object', required: ['until', 'reason', 'failures'], properties: { until: num, reason: str, failures: int } }] },
      lastTick: int,
      time: num,
      uptime: num,
      version: str,
    },
  },
  Worker: {
    type: 'object',
    required: ['name', 'state', 'connected', 'planned', 'managed', 'threads', 'memoryLimit', 'nbytes', 'tasks', 'pool', 'age'],
    properties: {
      name: str,
      state: { enum: ['planned', 'requested', 'pending', 'starting', 'running', 'paused', 'closing', 'stopping', 'lost'] },
      connected: { type: 'boolean' },
      planned: { type: 'boolean' },
      managed: { type: 'boolean', description: 'a worker of this cluster; false for others connected to the same scheduler' },
      backend: { enum: ['pending', 'running', 'stopping', 'exited'] },
      reason: str,
      address: str,
      host: str,
      threads: int,
      memoryLimit: int,
      nbytes: int,
      tasks: int,
      pool: { type: ['string', 'null'] },
      age: { ...num, description: 'seconds since this ebbtide first saw the worker' },
    },
  },
  Workers: { type: 'object', required: ['workers'], properties: { workers: { type: 'array', items: ref('Worker') } } },
  Recommendation: {
    oneOf: [
      { type: 'object', required: ['status'], properties: { status: { const: 'same' } } },
      { type: 'object', required: ['status', 'n'], properties: { status: { const: 'up' }, n: int } },
      { type: 'object', required: ['status', 'workers'], properties: { status: { const: 'down' }, workers: strings } },
    ],
  },
  ProposedWorker: {
    type: 'object',
    required: ['name', 'count', 'firm', 'connected'],
    properties: { name: str, count: int, firm: { type: 'boolean' }, connected: { type: 'boolean' }, idle: { type: 'boolean' }, tasks: int, nbytes: int, group: str },
  },
  Outcome: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { enum: ['none', 'scaled-up', 'scaled-down', 'partial', 'failed', 'skipped', 'shutdown'] },
      started: strings,
      stopped: strings,
      retired: strings,
      cancelled: strings,
      kept: { type: 'array', items: { type: 'object', required: ['name', 'reason'], properties: { name: str, reason: str } } },
      error: { type: 'object', required: ['message'], properties: { code: str, message: str, retryable: { type: 'boolean' } } },
      reason: str,
      lost: { type: 'object', required: ['count', 'keys'], properties: { count: int, keys: strings } },
      left: strings,
    },
  },
  Decision: {
    type: 'object',
    description: "one tick's decision record (docs/dashboard.md lists every field)",
    required: ['target', 'safeTarget', 'workersToClose', 'recommendation', 'closeCounts', 'explanation'],
    properties: {
      tick: int,
      time: num,
      duration: num,
      mode: { enum: ['adaptive', 'manual'] },
      inputs: {
        type: 'object',
        required: ['workers', 'plan', 'requested', 'tasksQueued', 'tasksUnrunnable', 'tasksProcessing'],
        properties: {
          workers: int,
          plan: int,
          requested: int,
          tasksQueued: int,
          tasksUnrunnable: int,
          tasksProcessing: int,
          workersByStatus: { type: 'object', properties: { running: int, paused: int, closing: int } },
          threads: int,
          occupancy: num,
          memory: { type: 'object', properties: { used: int, limit: int } },
        },
      },
      target: int,
      safeTarget: int,
      workersToClose: strings,
      recommendation: ref('Recommendation'),
      closeCounts: { type: 'object', additionalProperties: int },
      waitCount: int,
      proposed: { type: 'array', items: ref('ProposedWorker') },
      explanation: { type: 'object', description: "the heuristic's reasons, plus bounds, and blind, capacity or manual when they applied" },
      allocation: { type: 'array', items: { type: 'object', required: ['pool', 'wanted', 'allowed'], properties: { pool: str, wanted: int, allowed: int, reason: str } } },
      guards: { type: 'array', items: { type: 'object', required: ['guard', 'effect'], properties: { guard: str, effect: str } } },
      outcome: ref('Outcome'),
      blind: { type: 'object', required: ['since'], properties: { since: num } },
    },
  },
  HistoryEntry: {
    type: 'object',
    description: 'a decision, or a run of quiet same ticks folded into one (count > 1); an entry that grows keeps its id',
    required: ['id', 'tick', 'count', 'decision'],
    properties: { id: { ...int, description: 'its first tick' }, tick: { ...int, description: 'its latest tick' }, count: int, firstTime: num, decision: ref('Decision') },
  },
  Decisions: {
    type: 'object',
    required: ['decisions', 'last'],
    properties: { decisions: { type: 'array', items: ref('HistoryEntry') }, last: { ...int, description: 'the newest tick: pass it as since= next time' } },
  },
  DecisionExplained: {
    type: 'object',
    required: ['entry', 'explanation'],
    properties: { entry: ref('HistoryEntry'), explanation: { ...strings, description: 'the decision in words, one reason a line' } },
  },
  Series: {
    type: 'object',
    required: ['t', 'observed', 'requested', 'plan', 'target', 'safeTarget', 'queued', 'processing'],
    description: 'one column per quantity, one value per tick (uPlot data columns)',
    properties: Object.fromEntries(['t', 'observed', 'requested', 'plan', 'target', 'safeTarget', 'queued', 'processing'].map((k) => [k, { type: 'array', items: num }])),
  },
  Logs: {
    type: 'object',
    required: ['lines'],
    properties: { worker: { ...str, description: "set for a worker's output" }, lines: strings },
  },
  ShutdownAccepted: {
    type: 'object',
    required: ['status', 'workers'],
    properties: { status: { const: 'shutting-down' }, workers: { enum: ['stop', 'keep'], description: 'shutdown.workers: what happens to the workers' } },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { enum: ['ok', 'starting', 'stopped'] }, lastTick: int, connected: { type: 'boolean' } },
  },
};

export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ebbtide control and observation API',
      version,
      description:
        'Served by `ebbtide up` and `ebbtide demo` (dashboard.host, default 127.0.0.1; dashboard.port, default 8790). With dashboard.token set, every request needs it as a bearer token. Numbers that may be unbounded are written "inf". See docs/dashboard.md.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'dashboard.token, when it is set' },
        accessToken: { type: 'apiKey', in: 'query', name: 'access_token', description: 'dashboard.token in the URL (for the page and EventSource, which cannot set headers)' },
      },
      schemas,
    },
    security: [{}, { bearer: [] }, { accessToken: [] }],
    paths: {
      '/': {
        get: { operationId: 'page', summary: 'the live page', responses: { '200': { description: 'HTML', content: { 'text/html': { schema: str } } }, ...secured } },
      },
      '/static/{file}': {
        get: {
          operationId: 'asset',
          summary: "the page's static assets (its script, style sheet, and uPlot)",
          parameters: [{ name: 'file', in: 'path', required: true, schema: str, example: 'app.js' }],
          responses: { '200': { description: 'the file', content: { 'text/javascript': { schema: str }, 'text/css': { schema: str } } }, '404': error('no such asset'), ...secured },
        },
      },
      '/api/status': {
        get: { operationId: 'status', summary: "the cluster's repr, workers, threads, memory, plan/requested/observed, settings, mode, blindness", responses: { '200': json(ref('Status'), 'the status'), ...secured } },
      },
      '/api/workers': {
        get: { operationId: 'workers', summary: 'every worker: planned, in the backend, or connected', responses: { '200': json(ref('Workers'), 'the table'), ...secured } },
      },
      '/api/decisions': {
        get: {
          operationId: 'decisions',
          summary: 'the decision history (adaptive.historyLength entries, quiet same ticks folded)',
          parameters: [{ name: 'since', in: 'query', required: false, schema: int, example: 0, description: 'only entries whose latest tick is after this one' }],
          responses: { '200': json(ref('Decisions'), 'entries, oldest first'), '400': error('since is not a whole number'), ...secured },
        },
      },
      '/api/decisions/stream': {
        get: {
          operationId: 'decisionStream',
          summary: 'server-sent events: one `decision` event per new or grown history entry (data: a HistoryEntry; id: its latest tick); `end` when ebbtide stops',
          parameters: [
            { name: 'since', in: 'query', required: false, schema: int, example: 0, description: 'replay the entries after this tick first (also the Last-Event-ID header)' },
          ],
          responses: { '200': { description: 'an event stream', content: { 'text/event-stream': { schema: str, 'x-event-data': ref('HistoryEntry') } } }, ...secured },
        },
      },
      '/api/decisions/{tick}': {
        get: {
          operationId: 'explain',
          summary: 'the history entry holding this tick, and the decision in words',
          parameters: [{ name: 'tick', in: 'path', required: true, schema: { anyOf: [int, { const: 'last' }] }, example: 'last' }],
          responses: { '200': json(ref('DecisionExplained'), 'the entry and its explanation'), '404': error('no entry holds this tick (not yet, or no longer kept)'), ...secured },
        },
      },
      '/api/series': {
        get: {
          operationId: 'series',
          summary: "workers (observed, requested, planned, target) and demand per tick, for the page's chart",
          parameters: [{ name: 'since', in: 'query', required: false, schema: num, example: 0, description: 'only points after this clock second' }],
          responses: { '200': json(ref('Series'), 'columns'), '400': error('since is not a number'), ...secured },
        },
      },
      '/api/logs': {
        get: {
          operationId: 'logs',
          summary: "ebbtide's own recent log, or with worker= a worker's output tail (where the backend keeps one)",
          parameters: [
            { name: 'worker', in: 'query', required: false, schema: str, description: 'a worker name (see /api/workers)' },
            { name: 'lines', in: 'query', required: false, schema: { type: 'integer', minimum: 1 }, example: 100, description: 'at most this many lines (default 200)' },
          ],
          responses: {
            '200': json(ref('Logs'), 'the lines, oldest first'),
            '400': error('lines is not a whole number >= 1'),
            '404': error('no such worker'),
            '501': error("the backend keeps no worker output (it has no logs method)"),
            ...secured,
          },
        },
      },
      '/metrics': {
        get: { operationId: 'metrics', summary: 'Prometheus text format (prom-client)', responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: str } } }, ...secured } },
      },
      '/healthz': {
        get: { operationId: 'health', summary: 'liveness: 200 while the autoscaler runs', responses: { '200': json(ref('Health'), 'running'), '503': json(ref('Health'), 'starting or stopped'), ...secured } },
      },
      '/api/scale': {
        post: {
          operationId: 'scale',
          summary: "manual mode: hold the cluster at n workers (Dask's cluster.scale(n)); shrinking still retires through the scheduler first",
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['n'], properties: { n: int } }, example: { n: 2 } } } },
          responses: {
            '200': json(ref('ScalingState'), 'the new mode; a tick runs at once'),
            '400': error('n is missing or not a whole number >= 0'),
            '415': error('the body is not application/json'),
            '503': error('the autoscaler is not running'),
            ...secured,
          },
        },
      },
      '/api/adapt': {
        post: {
          operationId: 'adapt',
          summary:
            "back to adaptive mode within [minimum, maximum] (Dask's cluster.adapt(minimum, maximum, interval=, wait_count=, target_duration=)); anything left out keeps its value; the loop settings now are in /api/status (adaptive)",
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    minimum: int,
                    maximum: { anyOf: [int, { const: 'inf' }, { type: 'null' }] },
                    interval: { ...duration, description: 'time between ticks; the timer restarts with it' },
                    waitCount: { ...int, description: 'ticks in a row a worker must be proposed before it is closed' },
                    targetDuration: { ...duration, description: "how long the queued and running work should take (the heuristic's target duration)" },
                  },
                },
                example: { minimum: 0, maximum: 4 },
              },
            },
          },
          responses: {
            '200': json(ref('ScalingState'), 'the new mode; a tick runs at once'),
            '400': error('a bound or waitCount is not a whole number >= 0, minimum > maximum, or interval or targetDuration is not a duration > 0'),
            '415': error('the body is not application/json'),
            '503': error('the autoscaler is not running'),
            ...secured,
          },
        },
      },
      '/api/shutdown': {
        post: {
          operationId: 'shutdown',
          summary:
            'shut down as on SIGTERM, honouring shutdown.workers (stop: retire and stop every worker; keep: leave them for the next ebbtide); answers before the workers are retired, and the server stops answering once ebbtide has stopped',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' }, example: {} } } },
          responses: {
            '202': json(ref('ShutdownAccepted'), 'shutting down'),
            '415': error('the body is not application/json'),
            '501': error('this ebbtide cannot be shut down through the API (ebbtide demo)'),
            '503': error('the autoscaler is not running yet'),
            ...secured,
          },
        },
      },
      '/api/openapi.json': {
        get: { operationId: 'openapi', summary: 'this document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3.1'), ...secured } },
      },
    },
  };
}
