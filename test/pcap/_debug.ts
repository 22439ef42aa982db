import { NetnsLab } from './netns-capture.ts';
const lab = new NetnsLab();
await lab.create();
try {
  const t = await lab.startTcpdump(['-w', '/tmp/pcapsmoke/n.pcap'], 3);
  console.log('listening');
  await lab.sendUdp([1, 2, 3]);
  console.log('sent');
  const r = await t; console.log(r.stderr.toString());
} finally { await lab.remove(); }
