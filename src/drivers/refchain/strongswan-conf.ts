/**
 * strongSwan configuration for the two charons (security = initiator, destination = responder), generated
 * from the topology. Each charon sees its own directory as /run (see charon.ts), so paths here are /run/*.
 */
import type { Topology } from './topology.ts';

export type CharonRole = 'security' | 'destination';

// kernel-libipsec before kernel-netlink: ESP is done in userspace on a TUN device (the kernel has no ESP).
const PLUGINS =
  'random nonce drbg openssl aes gcm sha1 sha2 hmac kdf pem pkcs1 x509 pubkey gmp kernel-libipsec kernel-netlink socket-default vici updown';

/** strongswan.conf for one charon. The inbound SPI is pinned by making [spi_min, spi_max] a single value. */
export function strongswanConf(t: Topology, role: CharonRole): string {
  const spiIn = role === 'security' ? t.esp.spiIn : t.esp.spiOut;
  return `charon {
  load_modular = no
  load = ${PLUGINS}
  spi_min = ${spiIn}
  spi_max = ${spiIn}
  install_virtual_ip = no
  filelog {
    main {
      path = /run/charon.log
      default = 1
      time_format = %F %T
      append = no
      flush_line = yes
    }
    # chd = 4 prints the negotiated ESP keys: the only way to hand them to the analyser (no save-keys plugin).
    keys {
      path = /run/keys.log
      default = -1
      chd = 4
      ike = 1
      append = no
      flush_line = yes
    }
  }
  syslog {
    daemon {
      default = -1
    }
  }
  plugins {
    vici {
      socket = unix:///run/charon.vici
    }
  }
}
`;
}

/** swanctl.conf: IKEv2 PSK, AES-GCM-128 ESP, tunnel mode; no rekeying, no DPD, no MOBIKE (G4). */
export function swanctlConf(t: Topology, role: CharonRole, pskHex: string): string {
  const sec = role === 'security';
  const [local, remote] = sec ? [t.sec.outIp, t.dst.inIp] : [t.dst.inIp, t.sec.outIp];
  const [localTs, remoteTs] = sec ? [t.innerNet, t.remoteNet] : [t.remoteNet, t.innerNet];
  const [localId, remoteId] = sec ? ['security', 'destination'] : ['destination', 'security'];
  return `connections {
  refchain {
    version = 2
    local_addrs = ${local}
    remote_addrs = ${remote}
    proposals = aes128gcm16-prfsha256-modp2048
    mobike = no
    dpd_delay = 0
    rekey_time = 0
    reauth_time = 0
    encap = yes
    local {
      auth = psk
      id = ${localId}
    }
    remote {
      auth = psk
      id = ${remoteId}
    }
    children {
      net {
        local_ts = ${localTs}
        remote_ts = ${remoteTs}
        esp_proposals = aes128gcm16
        mode = tunnel
        rekey_time = 0
        life_time = 0
        start_action = none
        close_action = none
        dpd_action = none
      }
    }
  }
}
secrets {
  ike-refchain {
    id-1 = security
    id-2 = destination
    secret = 0x${pskHex}
  }
}
`;
}

/** swanctl's own strongswan.conf: only the plugins it needs, so it does not print "failed to load" lines (G6). */
export const SWANCTL_CLIENT_CONF = `swanctl {
  load = random pem pkcs1 x509 pubkey
}
`;
