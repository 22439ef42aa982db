/**
 * Reads the ESP keys charon prints at file-log level `chd = 4` when a CHILD_SA is established:
 *
 *   09[CHD] encryption initiator key => 20 bytes @ 0x7f…
 *   09[CHD]    0: A4 04 27 26 2A C0 E3 D0 BD D6 98 D6 F7 C6 17 EA  ..'&*...........
 *   09[CHD]   16: 55 20 F1 72                                      U .r
 *   09[CHD] encryption responder key => 20 bytes @ 0x7f…
 *   …
 *   09[IKE] CHILD_SA net{1} established with SPIs 000003e9_i 000003e8_o and TS 10.10.10.0/24 === 172.20.102.0/24
 *
 * For AES-GCM-128 the 20 bytes are key (16) + salt (4) (RFC 4106). The initiator's key protects
 * initiator→responder traffic, so on the initiator the outbound SA (`_o`) uses the initiator key.
 * (src/transform/esp-sa.ts may later offer the same parser; this one is self-contained until merged.)
 */
export interface CharonChildKeys {
  child: string;
  spiIn: number;
  spiOut: number;
  /** key material protecting traffic *from* this charon (outbound) and *to* it (inbound) */
  outKey: Uint8Array;
  inKey: Uint8Array;
}

const KEY_HEAD = /\[CHD\]\s+encryption (initiator|responder) key => (\d+) bytes/;
const HEX_LINE = /\[CHD\]\s+\d+: (.*)$/;
const ESTABLISHED = /CHILD_SA (\S+)\{\d+\} established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o/;

/** Every CHILD_SA established in the log, in order. `role` is this charon's IKE role. */
export function parseCharonKeys(log: string, role: 'initiator' | 'responder'): CharonChildKeys[] {
  const out: CharonChildKeys[] = [];
  let keys: Partial<Record<'initiator' | 'responder', Uint8Array>> = {};
  let reading: { who: 'initiator' | 'responder'; bytes: number[]; want: number } | undefined;
  for (const line of log.split('\n')) {
    const head = KEY_HEAD.exec(line);
    if (head) {
      reading = { who: head[1] as 'initiator' | 'responder', bytes: [], want: Number(head[2]) };
      continue;
    }
    if (reading) {
      const hex = HEX_LINE.exec(line);
      if (hex) {
        // hex pairs until the double space before the ASCII column
        for (const tok of hex[1].split(' ')) {
          if (!/^[0-9A-Fa-f]{2}$/.test(tok) || reading.bytes.length === reading.want) break;
          reading.bytes.push(parseInt(tok, 16));
        }
        if (reading.bytes.length === reading.want) {
          keys[reading.who] = Uint8Array.from(reading.bytes);
          reading = undefined;
        }
        continue;
      }
      reading = undefined;
    }
    const est = ESTABLISHED.exec(line);
    if (est && keys.initiator && keys.responder) {
      const mine = role === 'initiator' ? keys.initiator : keys.responder;
      const theirs = role === 'initiator' ? keys.responder : keys.initiator;
      out.push({ child: est[1], spiIn: parseInt(est[2], 16), spiOut: parseInt(est[3], 16), outKey: mine, inKey: theirs });
      keys = {};
    }
  }
  return out;
}
