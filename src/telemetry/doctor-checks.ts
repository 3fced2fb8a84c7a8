// doctor's telemetry lines: whether traces and metrics are on, where they go, and whether what they need is
// installed and answering. Reads the variables only; loads nothing of the SDK.
import { assertReachable } from '../backends/reachability.js';
import { parseHttpTokens } from '../transports/bearer-tokens.js';
import { METRICS_PATH, parseMetricsTokens } from '../transports/metrics-endpoint.js';
import { describeSignal, readOtelPlan, type OtelPlan, type Signal } from './otel-env.js';
import { missingSdkPackages, sdkPackages } from './sdk.js';

export interface TelemetryCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
}

export async function telemetryChecks(env: NodeJS.ProcessEnv): Promise<TelemetryCheck[]> {
  const checks: TelemetryCheck[] = [];
  let plan: OtelPlan | undefined;
  try {
    plan = readOtelPlan(env);
  } catch (error) {
    checks.push({ name: 'tracing', status: 'fail', detail: messageOf(error) });
  }
  const missing = plan ? missingSdkPackages(plan) : [];
  if (plan) checks.push(await signalCheck(plan, 'traces', missing));

  const parts: string[] = [];
  let status: TelemetryCheck['status'] = 'ok';
  try {
    let httpTokens;
    try {
      httpTokens = parseHttpTokens(env.ONCE_HTTP_TOKENS);
    } catch {
      httpTokens = undefined; // its own problem; the overlap check needs only the tokens that parse
    }
    const tokens = parseMetricsTokens(env.ONCE_METRICS_TOKEN, httpTokens);
    parts.push(tokens ? `serve --http answers GET ${METRICS_PATH} to ONCE_METRICS_TOKEN (${tokens.size} token(s))` : `GET ${METRICS_PATH} off (set ONCE_METRICS_TOKEN for serve --http)`);
  } catch (error) {
    status = 'fail';
    parts.push(messageOf(error));
  }
  if (plan) {
    const otel = await signalCheck(plan, 'metrics', missing);
    parts.push(`OpenTelemetry metrics ${otel.detail}`);
    if (otel.status === 'fail' || (otel.status === 'warn' && status === 'ok')) status = otel.status;
  }
  checks.push({ name: 'metrics', status, detail: parts.join('; ') });
  if (plan && plan.notes.length > 0) checks.push({ name: 'telemetry', status: 'warn', detail: plan.notes.join('; ') });
  return checks;
}

async function signalCheck(plan: OtelPlan, which: Signal, missing: string[]): Promise<TelemetryCheck> {
  const name = which === 'traces' ? 'tracing' : 'metrics';
  const signal = plan[which];
  if (!signal) return { name, status: 'ok', detail: describeSignal(undefined, which) };
  const mine = sdkPackages({ ...plan, [which === 'traces' ? 'metrics' : 'traces']: undefined }).filter((p) => missing.includes(p));
  const where = `on: ${describeSignal(signal, which)}, service ${plan.serviceName}`;
  if (mine.length > 0) {
    return { name, status: 'fail', detail: `${where}, but ${mine.join(', ')} ${mine.length === 1 ? 'is' : 'are'} not installed. Fix: install without --omit=optional, or npm install ${mine.join(' ')}` };
  }
  if (signal.exporters.includes('otlp')) {
    try {
      await assertReachable(`OTEL_EXPORTER_OTLP_${which.toUpperCase()}_ENDPOINT`, signal.endpoint);
    } catch {
      return { name, status: 'warn', detail: `${where}; nothing answers there now, so ${which} would be dropped. Check OTEL_EXPORTER_OTLP_ENDPOINT and the collector` };
    }
  }
  return { name, status: 'ok', detail: where };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
