/** `show version`: `vpp v24.10-release built by root on vm at …`. */
import { unrecognised } from './text.ts';

export interface VppVersion {
  /** e.g. "v24.10-release" */
  version: string;
}

export function parseShowVersion(text: string): VppVersion {
  const version = text.match(/^vpp (v\S+)/m)?.[1];
  if (!version) throw unrecognised('show version', 'no "vpp vX" line', text);
  return { version };
}
