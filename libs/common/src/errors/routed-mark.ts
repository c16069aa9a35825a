/** Set on a request by the telemetry interceptor, so the global filter knows a controller call was recorded. */
export const ROUTED_MARK = Symbol.for('lrcp.routed');
