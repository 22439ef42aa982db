/**
 * src/traffic — what generated datagrams carry, per payload kind (a registry: kinds.ts), and a mix of
 * kinds and exporters as frames for the injectors (mix.ts).
 *
 *   exporter.ts       the PayloadKind / FlowExporter contract and the registry
 *   netflow-v5.ts, netflow-v9.ts, ipfix.ts, sflow.ts, replay.ts   one kind each
 *   templated.ts      what v9 and IPFIX share (template sets, record pools, data sets)
 *   flow-pool.ts      plausible flows (documentation prefixes), sampled-packet.ts their sampled headers
 *   mix.ts            parseMix('netflow-v9:50,ipfix:30,sflow:20'), createFlowMixSource(...) → FrameSource
 */
export * from './exporter.ts';
export * from './kinds.ts';
export * from './mix.ts';
