/** Start of the line `ebbtide-worker` prints on stdout once the scheduler accepted it. */
export const READY_LINE_PREFIX = 'ebbtide-worker ready';
