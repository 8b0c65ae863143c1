/** The output of one tick after hysteresis. */
export type Recommendation =
  | { status: 'same' }
  | { status: 'up'; n: number }
  | { status: 'down'; workers: string[] };
