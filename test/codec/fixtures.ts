/** Specs shared by the codec tests (addresses from the reference chain's plan). */
import type { Ipv4UdpPacketSpec, VxlanFrameSpec } from '../../src/codec/template.ts';

export function vxlanSpec(payloadBytes: number, udpChecksum = false): VxlanFrameSpec {
  return {
    outer: {
      srcMac: '02:00:00:00:01:01',
      dstMac: '02:00:00:00:01:02',
      srcIp: '192.168.100.1',
      dstIp: '192.168.100.2',
      srcPortBase: 50000,
      srcPortCount: 1000,
      dstPort: 4789,
      vni: 100,
      vxlanFlags: 0x08,
      udpChecksum,
      ttl: 64,
    },
    inner: {
      srcMac: '02:00:00:0a:0a:01',
      dstMac: '02:00:00:0a:0a:02',
      srcIp: '10.10.10.5',
      dstIp: '172.20.0.10',
      srcPort: 40000,
      dstPort: 5001,
      ttl: 64,
    },
    payloadBytes,
    runId: 0x1234abcd,
    flowId: 3,
  };
}

export function ipv4UdpSpec(payloadBytes: number, withEthernet: boolean): Ipv4UdpPacketSpec {
  return {
    ethernet: withEthernet ? { srcMac: '02:00:00:0a:0a:01', dstMac: '02:00:00:0a:0a:02' } : undefined,
    srcIp: '10.10.10.5',
    dstIp: '172.20.0.10',
    srcPort: 40000,
    dstPort: 5001,
    ttl: 63,
    payloadBytes,
    runId: 0x1234abcd,
    flowId: 4,
    ipIdBase: 1000,
  };
}
