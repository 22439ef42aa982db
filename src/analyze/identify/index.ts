/** src/analyze/identify — recognising one datagram at every capture point (a registry of identifiers). */
export * from './identify.ts';
