import { createFlowMixSource } from '../src/traffic/mix.ts';
const mix = process.argv[2] ?? 'netflow-v9:50,ipfix:30,sflow:20';
  const s = createFlowMixSource({ mix, exporters: 20, exporterBaseIp: '10.10.10.100', dstIp: '10.10.10.10', udpChecksum: process.argv[3] !== 'nock' });
  let x=0; for (let i=0;i<200000;i++) x^=s.next(i)[30];
  const N=3_000_000; const t=performance.now(); let bytes=0;
  for (let i=200000;i<200000+N;i++){ const f=s.next(i); x^=f[30]; bytes+=f.length;}
  const dt=(performance.now()-t)/1000; console.log(mix, Math.round(N/dt), 'avg bytes', Math.round(bytes/N));
