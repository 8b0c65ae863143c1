import { definePlugin } from '@ebbtide/core';
import { type DashboardOptions, dashboardOptions, dashboardSchema } from './config.js';

export { type DashboardOptions, dashboardOptions, dashboardSchema, dashboardUrl, isLoopbackHost } from './config.js';
export { DashboardServer, type DashboardServerOptions } from './DashboardServer.js';
export { DashboardMetrics } from './DashboardMetrics.js';
export { DecisionStream } from './DecisionStream.js';
export { Series, type SeriesColumns } from './Series.js';
export { RecentLog, withRecentLog } from './RecentLog.js';
export { type ClusterStatus, clusterStatus, formatBytes, formatRepr } from './clusterStatus.js';
export { explainDecision, headline } from './explainDecision.js';
export { openApiDocument } from './openapi.js';
export { ControlClient } from './ControlClient.js';

/**
 * Contributes the `dashboard.*` config section; it registers no implementation (the server is
 * started by `ebbtide up` and `ebbtide demo`, not selected by a role).
 */
const dashboardPlugin = definePlugin<DashboardOptions>({
  name: 'dashboard',
  description: 'control and observation HTTP server: JSON API, server-sent decisions, Prometheus metrics, a live page',
  configSchema: dashboardSchema,
  options: dashboardOptions,
  register() {},
});

export default dashboardPlugin;
export { dashboardPlugin };
