/** The payload kinds chainprobe can generate: one line per kind (each kind is one file). */
import { registerPayloadKind } from './exporter.ts';
import { ipfixKind } from './ipfix.ts';
import { netflowV5Kind } from './netflow-v5.ts';
import { netflowV9Kind } from './netflow-v9.ts';
import { replayKind } from './replay.ts';
import { sflowKind } from './sflow.ts';

for (const kind of [netflowV5Kind, netflowV9Kind, ipfixKind, sflowKind, replayKind])
  registerPayloadKind(kind);

export { payloadKind, payloadKindNames } from './exporter.ts';
