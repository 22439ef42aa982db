/**
 * The records the pcap/pcapng reader yields and the writers take. Timestamps are absolute ns since the
 * Unix epoch as `bigint` (ns since 1970 do not fit a double exactly).
 */

/** One captured packet. */
export interface PcapPacket {
  /** Absolute, ns since epoch. 0n for a pcapng Simple Packet Block, which carries no timestamp. */
  timestampNs: bigint;
  /**
   * pcapng: index of the packet's IDB in file order, counted across sections (the same numbering as
   * Wireshark's frame.interface_id). Classic pcap: always 0.
   */
  interfaceId: number;
  /** LINKTYPE_*: 1 ethernet, 101 raw, 228 ipv4, 113 SLL, 276 SLL2 ... */
  linktype: number;
  capturedLength: number;
  originalLength: number;
  /**
   * The captured bytes: a view (no copy) into the input buffer (readPacketsSync) or into a chunk of the
   * input stream / a private assembly buffer (readPackets). Lifetime: the reader never writes into memory
   * it has handed out, so the view stays valid as long as you reference it and do not modify the input
   * buffer yourself. Keeping a packet keeps its whole chunk (up to 256 KiB for a file) alive: copy
   * (`data.slice()`) what you keep for long.
   */
  data: Uint8Array;
  /** pcapng opt_comment (the first one), if any. */
  comment?: string;
}

/** One capture interface: the single implicit one of classic pcap, or one pcapng IDB. */
export interface PcapInterface {
  /** Index in file order across sections (see PcapPacket.interfaceId). */
  id: number;
  linktype: number;
  /** pcapng if_name */
  name?: string;
  /** pcapng if_description */
  description?: string;
  /** ns per timestamp tick: 1 (ns), 1000 (µs); fractional for finer than ns or power-of-2 resolutions. */
  tsresolNs: number;
  /** 0 means "no limit" in pcapng */
  snaplen: number;
  /** pcapng section (0-based) the interface belongs to; 0 for classic pcap. */
  sectionIndex: number;
}

/**
 * Largest captured length we accept (libpcap's and Wireshark's MAXIMUM_SNAPLEN). A record claiming more is a
 * format error, never an allocation: this is what bounds the stream reader's memory.
 */
export const maxCapturedBytes = 262_144;
/** Largest pcapng block we buffer: a packet of maxCapturedBytes plus room for headers and options. */
export const maxBufferedBlockBytes = maxCapturedBytes + 65_536;
