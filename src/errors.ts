/**
 * Operational errors with a stable code, shared by every module (transport, capture, inject, chain):
 *   E_NO_PRIVILEGE, E_MISSING_TOOL, E_UNREACHABLE, E_AUTH, E_HOST_KEY, E_TIMEOUT, E_NO_INTERFACE,
 *   E_PCAP_MALFORMED, E_CAPTURE_FAILED, E_INJECT_FAILED, E_UNSAFE_DESTINATION, E_CHAIN, E_CONFIG ...
 * `badInput` marks errors caused by what the user passed (exit code 2) rather than by the environment (1).
 */
export class ChainprobeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly badInput = false,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ChainprobeError';
  }
}
