/** doctor: is a VXLAN underlay between two hosts healthy, and if not, why — with evidence. */
export type { EndConfig, VxlanConfigReader, VxlanEndpoint } from './config.ts';
export { linuxVxlanReader, readEndConfig, registerVxlanConfigReader, vxlanConfigReaders } from './config.ts';
export { type DoctorOptions, formatDoctorReport, runDoctor } from './doctor.ts';
export { type DoctorReport, FINDING_KINDS, type Finding, type FindingKind } from './findings.ts';
export { parseHost } from './host.ts';
