/**
 * Flow-export codecs and generated traffic against independent decoders: tshark's cflow and sflow
 * dissectors (no malformed packets, no expert warnings, field values equal to ours) and scapy's NetFlow
 * layers. Our own decoders: typed DecodeErrors on every truncation.
 */
import { describe, expect, test } from 'vitest';
import { readU16, readU32 } from '../../src/codec/bytes.ts';
import { DecodeError } from '../../src/codec/errors.ts';
import { decodeIpfix, ipfixWith } from '../../src/codec/flow/ipfix.ts';
import { netflowV5 } from '../../src/codec/flow/netflow-v5.ts';
import { decodeNetflowV9, netflowV9 } from '../../src/codec/flow/netflow-v9.ts';
import { decodeSflow, sflow } from '../../src/codec/flow/sflow.ts';
import { TemplateCache, VARIABLE_LENGTH } from '../../src/codec/flow/templates.ts';
import { describe as describeLayers, dissect, LINKTYPE_IPV4 } from '../../src/codec/stack.ts';
import { planInjection } from '../../src/inject/plan.ts';
import { createFlowMixSource, parseMix } from '../../src/traffic/mix.ts';
import { writeTempPcap } from '../helpers/classic-pcap.ts';
import { hexOf, scapy, tsharkFields } from '../helpers/oracle-tools.ts';

const DECODE_AS = ['-d', 'udp.port==2055,cflow', '-d', 'udp.port==6343,sflow'];

function mixFrames(mix: string, count: number, exporters = 2): Uint8Array[] {
  const src = createFlowMixSource({
    mix,
    exporters,
    exporterBaseIp: '198.51.100.10',
    dstIp: '203.0.113.1',
    startMs: 1_764_500_000_000,
  });
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) frames.push(src.next(i).slice());
  return frames;
}

const payloadOf = (f: Uint8Array) => f.subarray(28);

describe('generated flow export, decoded by tshark', () => {
  const frames = mixFrames('netflow-v5:1,netflow-v9:1,ipfix:1,sflow:1', 400);
  const path = writeTempPcap(frames, LINKTYPE_IPV4, 'mix.pcap');

  test('no malformed packet, no expert warning or error (checksums verified)', async () => {
    const bad = await tsharkFields(
      path,
      ['frame.number', '_ws.expert.message'],
      [
        ...DECODE_AS,
        // tshark checks neither checksum unless asked
        ...['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'],
        ...[
          '-Y',
          '_ws.malformed || _ws.expert.severity >= 0x600000 || ip.checksum.status == 0 || udp.checksum.status == 0',
        ],
      ],
    );
    expect(bad).toEqual([]);
  }, 60_000);

  test("tshark's header fields equal our decoders', and sequence numbers follow each protocol", async () => {
    const rows = await tsharkFields(
      path,
      [
        'cflow.version',
        'cflow.sequence',
        'cflow.source_id',
        'cflow.od_id',
        'cflow.count',
        'cflow.len',
        'sflow_245.agent',
        'sflow_245.sub_agent_id',
        'sflow_245.sequence_number',
        'sflow_245.numsamples',
        'cflow.srcaddr',
      ],
      DECODE_AS,
    );
    expect(rows).toHaveLength(frames.length);
    const caches = new Map<string, TemplateCache>();
    const cache = (k: string) => caches.get(k) ?? caches.set(k, new TemplateCache()).get(k)!;
    const lastSeq = new Map<string, number>();
    const seen = { v5: 0, v9: 0, ipfix: 0, sflow: 0 };
    frames.forEach((f, i) => {
      const [ver, seq, sourceId, odId, count, len, agent, subAgent, sSeq, nSamples, srcAddrs] = rows[i];
      const p = payloadOf(f);
      const src = readU32(f, 12);
      const step = (key: string, value: number, by: number) => {
        const prev = lastSeq.get(key);
        if (prev !== undefined) expect(value - prev, `${key} frame ${i}`).toBe(by);
        lastSeq.set(key, value);
      };
      if (readU16(p, 0) === 5) {
        seen.v5++;
        const v = netflowV5.decode(p).value;
        expect([ver, seq, count].map(Number)).toEqual([5, v.flowSequence, v.records.length]);
        expect(srcAddrs.split(',')).toEqual(
          v.records.map(
            (r) =>
              `${r.srcAddr >>> 24}.${(r.srcAddr >>> 16) & 255}.${(r.srcAddr >>> 8) & 255}.${r.srcAddr & 255}`,
          ),
        );
        step(`v5 ${src}`, v.flowSequence, 10); // counts flows
      } else if (readU16(p, 0) === 9) {
        seen.v9++;
        const v = decodeNetflowV9(p, 0, p.length, cache(`v9 ${src}`)).value;
        const records = v.flowSets.reduce(
          (n, s) => n + (s.kind === 'data' ? (s.records?.length ?? 0) : s.templates.length),
          0,
        );
        expect([ver, seq, sourceId, count].map(Number)).toEqual([9, v.sequence, v.sourceId, records]);
        const data = v.flowSets.find((s) => s.kind === 'data' && s.templateId === 256);
        expect(data?.kind === 'data' && data.records?.length).toBe(10); // decodable with the cached template
        step(`v9 ${src}`, v.sequence, 1); // counts export packets
      } else if (readU16(p, 0) === 10) {
        seen.ipfix++;
        const v = decodeIpfix(p, 0, cache(`ipfix ${src}`)).value;
        expect([ver, seq, odId, len].map(Number)).toEqual([10, v.sequence, v.observationDomainId, p.length]);
        step(`ipfix ${src}`, v.sequence, 10); // counts data records
      } else {
        seen.sflow++;
        const v = decodeSflow(p, 0, p.length).value;
        expect(agent).toBe(`${src >>> 24}.${(src >>> 16) & 255}.${(src >>> 8) & 255}.${src & 255}`);
        expect([subAgent, sSeq, nSamples].map(Number)).toEqual([v.subAgentId, v.sequence, v.samples.length]);
        expect(v.samples.filter((s) => s.kind === 'flow').length).toBe(4);
        step(`sflow ${src}`, v.sequence, 1); // counts datagrams
      }
    });
    expect(seen).toEqual({ v5: 100, v9: 100, ipfix: 100, sflow: 100 });
  }, 60_000);

  test('the dissector names every layer and describes the export header', () => {
    const names = frames.slice(0, 4).map((f) => dissect(f, LINKTYPE_IPV4).names().join('/'));
    expect(names).toEqual(['ipv4/udp/cflow', 'ipv4/udp/cflow', 'ipv4/udp/cflow', 'ipv4/udp/sflow']);
    expect(describeLayers(dissect(frames[1], LINKTYPE_IPV4))[2]).toMatch(
      /^NetFlow v9, 13 records, seq 0, source id 2304$/,
    );
  });
});

describe('scapy reads our NetFlow v5, v9 and IPFIX', () => {
  test('headers, v5 records and v9 templates', async () => {
    const frames = mixFrames('netflow-v5:1,netflow-v9:1,ipfix:1', 6, 1);
    const out = await scapy(
      `import sys
from scapy.layers.netflow import *
for line in sys.stdin.read().split():
    p = NetflowHeader(bytes.fromhex(line))
    if p.version == 5:
        h = p[NetflowHeaderV5]
        print(5, h.count, h.flowSequence, h.engineID, ','.join(r.src for r in p[NetflowHeaderV5].getlayer(NetflowRecordV5, 1) and [p.getlayer(NetflowRecordV5, i + 1) for i in range(h.count)]))
    elif p.version == 9:
        h = p[NetflowHeaderV9]
        t = p.getlayer(NetflowTemplateV9)
        print(9, h.count, h.packageSequence, h.SourceID, t.templateID if t else '-', ','.join(str(f.fieldType) for f in t.template_fields) if t else '-')
    else:
        h = p[NetflowHeaderV10]
        print(10, h.length, h.flowSequence, h.ObservationDomainID)
`,
      frames.map((f) => hexOf(payloadOf(f))).join('\n'),
    );
    const lines = out.trim().split('\n');
    const v5 = netflowV5.decode(payloadOf(frames[0])).value;
    const ip = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    expect(lines[0]).toBe(`5 10 0 0 ${v5.records.map((r) => ip(r.srcAddr)).join(',')}`);
    expect(lines[1]).toBe('9 13 0 2304 256 1,2,4,5,6,7,8,9,10,11,12,13,14,15,21,22');
    expect(lines[2]).toBe(`10 ${payloadOf(frames[2]).length} 0 4096`);
    expect(lines[3]).toBe(
      '5 10 10 0 ' +
        netflowV5
          .decode(payloadOf(frames[3]))
          .value.records.map((r) => ip(r.srcAddr))
          .join(','),
    );
    expect(lines[4]).toBe('9 10 1 2304 - -'); // no template now: 10 data records
  }, 60_000);
});

describe('codec details', () => {
  test('IPFIX enterprise and variable-length IEs and options templates decode in tshark as we wrote them', async () => {
    const tpl = {
      templateId: 300,
      fields: [
        { id: 8, length: 4 },
        { id: 82, length: VARIABLE_LENGTH }, // interfaceName
        { id: 1234, length: 4, enterprise: 29305 },
      ],
    };
    const opt = {
      templateId: 301,
      scopeFieldCount: 1,
      fields: [
        { id: 149, length: 4 },
        { id: 41, length: 8 },
      ],
    };
    const long = new TextEncoder().encode('x'.repeat(300)); // the 3-byte length form
    const msg = {
      exportTime: 1_764_500_000,
      sequence: 7,
      observationDomainId: 42,
      sets: [
        { kind: 'template' as const, templates: [tpl] },
        { kind: 'options-template' as const, templates: [opt] },
        {
          kind: 'data' as const,
          templateId: 300,
          records: [
            [0xc0000201, new TextEncoder().encode('eth0'), 7],
            [0xc0000202, long, 8],
          ],
        },
        { kind: 'data' as const, templateId: 301, records: [[42, 99n]] },
      ],
    };
    const codec = ipfixWith();
    const payload = new Uint8Array(codec.encodingLength(msg));
    codec.encode(msg, payload, 0);
    const back = decodeIpfix(payload, 0, new TemplateCache()).value;
    expect(back.sets[2]).toEqual(msg.sets[2]);
    const frame = udpFrame(payload, 2055);
    const path = writeTempPcap([frame], LINKTYPE_IPV4, 'ipfix.pcap');
    const [row] = await tsharkFields(
      path,
      [
        'cflow.template_ipfix_field_pen',
        'cflow.if_name',
        'cflow.template_ipfix_scope_field_count',
        '_ws.malformed',
      ],
      DECODE_AS,
    );
    expect(row.slice(0, 3)).toEqual(['29305', `eth0,${'x'.repeat(300)}`, '1']);
    expect(row[3]).toBe('');
  }, 60_000);

  test('every truncation of every kind is a DecodeError, never anything else', () => {
    const frames = mixFrames('netflow-v5:1,netflow-v9:1,ipfix:1,sflow:1', 4, 1);
    const decoders = [
      (b: Uint8Array) => netflowV5.decode(b),
      (b: Uint8Array) => decodeNetflowV9(b, 0, b.length, seeded(payloadOf(frames[1]))),
      (b: Uint8Array) => decodeIpfix(b, 0, new TemplateCache()),
      (b: Uint8Array) => sflow.decode(b),
    ];
    let errors = 0;
    frames.forEach((f, k) => {
      const p = payloadOf(f);
      for (let n = 0; n < p.length; n++) {
        try {
          decoders[k](p.slice(0, n));
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          errors++;
        }
      }
    });
    expect(errors).toBeGreaterThan(500);
  });

  test('bad values are EncodeErrors naming the field; bad mixes are typed config errors', () => {
    expect(() =>
      netflowV5.encode(
        { ...netflowV5.decode(payloadOf(mixFrames('netflow-v5', 1)[0])).value, records: [] },
        new Uint8Array(100),
      ),
    ).toThrow(/netflow-v5.records: 0 records/);
    expect(() =>
      netflowV9.encodingLength({
        sysUptimeMs: 0,
        unixSecs: 0,
        sequence: 0,
        sourceId: 0,
        flowSets: [{ kind: 'data', templateId: 999, records: [[1]] }],
      }),
    ).toThrow(/template 999/);
    expect(() => parseMix('netflow-v9:50,bogus:3')).toThrow(/bogus:3.*KIND\[:WEIGHT\]/);
    expect(() => parseMix('sflow:0')).toThrow(/positive integer/);
  });
});

function seeded(v9WithTemplates: Uint8Array): TemplateCache {
  const c = new TemplateCache();
  decodeNetflowV9(v9WithTemplates, 0, v9WithTemplates.length, c);
  return c;
}

function udpFrame(payload: Uint8Array, port: number): Uint8Array {
  const src = createFlowMixSource({
    mix: 'replay',
    exporterBaseIp: '198.51.100.9',
    dstIp: '203.0.113.1',
    capture: [payload],
    ports: { replay: port },
  });
  return src.next(0).slice();
}

describe('the mix as a frame source', () => {
  test("the injector's look at frame 0 costs no datagram: the first one sent still carries the templates", () => {
    const src = createFlowMixSource({
      mix: 'netflow-v9',
      exporterBaseIp: '198.51.100.10',
      dstIp: '203.0.113.1',
    });
    planInjection(src, { ratePps: 1000, count: 10 }); // samples frame 0, as the raw preflight does too
    src.next(0);
    const v9 = (f: Uint8Array) => ({ sequence: readU32(f, 28 + 12), firstSetId: readU16(f, 28 + 20) });
    expect(v9(src.next(0))).toEqual({ sequence: 0, firstSetId: 0 }); // FlowSet 0: the template set
    expect(v9(src.next(1)).sequence).toBe(1);
    expect(v9(src.next(2)).sequence).toBe(2);
  });
});
