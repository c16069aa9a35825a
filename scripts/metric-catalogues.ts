/**
 * Loads every library's metric catalogue (each registers itself on import), so that the docs generator
 * and the catalogue test see all metrics. Add a library here when it defines metrics.
 */
import '../libs/llm/src/instrumentation/llm-metrics';
import '../libs/ml/src/ml.metrics';
import '../libs/ledger/src/ledger.metrics';
import '../libs/forecast/src/forecast.metrics';

export function loadAllMetricCatalogues(): void {
  // Importing this module is enough; the function makes the intent explicit at call sites.
}
