/**
 * One RecordIO record as the master writes it on a subscription stream: the record's length in
 * bytes (not characters) in decimal, a newline, then the record itself.
 */
export function recordio(event: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(event), 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'ascii'), body]);
}
